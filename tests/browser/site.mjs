// Opens pages of the built Hugo site in headless Chromium and reports what a reader sees.
//
// Usage: node site.mjs JOB.json  (tests/test_hugo_search.py writes the job and reads stdout)
// JOB: {chromium, userDataDir, timeoutMs, views: [{name, url, query?}]}
//   without `query`: reports every article image (src, loaded);
//   with `query`: puts it in the page's search box (one input, as pasted) and reports the result links.
// Chromium resolves no host name but 127.0.0.1 and has its background networking off.

import { readFileSync } from "node:fs";
import puppeteer from "puppeteer-core";

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const timeoutMs = job.timeoutMs || 60000;
const browser = await puppeteer.launch({
  executablePath: job.chromium,
  userDataDir: job.userDataDir,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--proxy-server=http://127.0.0.1:9"],
});
const out = {};
try {
  for (const view of job.views) {
    const page = await browser.newPage();
    await page.goto(view.url, { waitUntil: "load", timeout: timeoutMs });
    if (view.query === undefined) {
      out[view.name] = await page.$$eval("article img", (images) =>
        images.map((i) => ({ src: i.getAttribute("src"), loaded: i.complete && i.naturalWidth > 0 })));
    } else {
      await page.waitForSelector("#search input", { timeout: timeoutMs });
      // the whole query at once, as a reader pastes it: typed key by key, every prefix is
      // searched too, and a prefix's results (another article) can show before the query's own
      await page.$eval("#search input", (input, query) => {
        input.focus();
        input.value = query;
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }, view.query);
      // every result loaded: each loads its page's data on its own, so the first link to show
      // is not always the first result's
      await page.waitForFunction(() => {
        const results = [...document.querySelectorAll("#search .pagefind-ui__result")];
        return results.length > 0 && !document.querySelector("#search .pagefind-ui__loading")
          && results.every((result) => result.querySelector(".pagefind-ui__result-link"));
      }, { timeout: timeoutMs });
      out[view.name] = await page.$$eval("#search .pagefind-ui__result-link", (links) =>
        links.map((a) => a.getAttribute("href")));
    }
    await page.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out));
