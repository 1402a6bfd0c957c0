// Opens WACZ files in ReplayWeb.page in headless Chromium and reports what each view shows.
//
// Usage: node replay.mjs JOB.json  (tests/test_wacz.py writes the job and reads stdout)
// JOB: {chromium, userDataDir, timeoutMs,
//       views: [{name, page, kind, waitFor, listed?, query?, screenshot}]}
//   kind "replay": `page` embeds <replay-web-page url=...>; waits until the replayed
//     page (a frame under /replay/w/, inside the component's shadow DOM and
//     iframes) has loaded and shows every `waitFor` string, then reports its
//     address, capture time (wbinfo.timestamp), title, visible text and the
//     text the page's own window.DATA holds (qq pages that render client-side
//     keep the body there).
//   kind "search": `page` embeds the page list; once `listed` is in it, types
//     `query` into ReplayWeb.page's search box and reports the list's text
//     once every `waitFor` string is in it.
// Prints {worker, views}: the service worker's state after the warm-up
// ("activated"), and per view what was seen, the requests the page made to
// any host but 127.0.0.1 (`offsite`), and `error` with the page's last console
// lines if it timed out. Chromium resolves no host name but 127.0.0.1 and has
// its background networking off: nothing else can be fetched.

import { readFileSync } from "node:fs";
import puppeteer from "puppeteer-core";

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const timeoutMs = job.timeoutMs || 60000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Text of a node and of every shadow root below it (ReplayWeb.page's UI is web components).
function deepText() {
  const out = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      out.push(node.data);
      return;
    }
    if (node.nodeType === Node.ELEMENT_NODE && ["SCRIPT", "STYLE"].includes(node.tagName)) return;
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
  };
  walk(document.documentElement);
  return out.join(" ");
}

function replayedPage() {
  let dataText = "";
  const data = window.DATA && window.DATA.originContent && window.DATA.originContent.text;
  if (typeof data === "string") {
    dataText = new DOMParser().parseFromString(data, "text/html").body.textContent;
  }
  return {
    ready: document.readyState === "complete",
    href: location.href,
    timestamp: typeof wbinfo !== "undefined" ? wbinfo.timestamp : null,
    title: document.title,
    text: document.body ? document.body.innerText : "",
    dataText,
  };
}

async function replayView(page, view) {
  const deadline = Date.now() + timeoutMs;
  let seen = [];
  while (Date.now() < deadline) {
    seen = [];
    for (const frame of page.frames()) {
      if (!frame.url().includes("/replay/w/") || !frame.url().includes("mp_/")) continue;
      try {
        seen.push(await frame.evaluate(replayedPage));
      } catch {
        // the frame navigated away while being read
      }
    }
    const found = seen.find((s) => s.ready &&
      view.waitFor.every((w) => (s.title + s.text + s.dataText).includes(w)));
    if (found) return found;
    await sleep(250);
  }
  return { error: `timed out after ${timeoutMs} ms waiting for ${JSON.stringify(view.waitFor)}`, seen };
}

async function searchView(page, view) {
  const deadline = Date.now() + timeoutMs;
  const selector = 'pierce/input[placeholder^="Search by Page URL"]';
  // the page list must show its pages before a query filters it; the box is
  // looked up only then (the UI replaces its components while it loads)
  let frame = null;
  while (!frame && Date.now() < deadline) {
    for (const candidate of page.frames()) {
      const text = await candidate.evaluate(deepText).catch(() => "");
      if (text.includes(view.listed) && (await candidate.$(selector).catch(() => null))) {
        frame = candidate;
        break;
      }
    }
    if (!frame) await sleep(250);
  }
  if (!frame) return { error: `no page list showing ${JSON.stringify(view.listed)} with a search box` };
  await (await frame.$(selector)).type(view.query);
  let text = "";
  while (Date.now() < deadline) {
    await sleep(500);
    text = await frame.evaluate(deepText);
    if (view.waitFor.every((w) => text.includes(w))) return { text };
  }
  return { error: `timed out after ${timeoutMs} ms waiting for ${JSON.stringify(view.waitFor)}`, text };
}

const browser = await puppeteer.launch({
  executablePath: job.chromium,
  headless: true,
  userDataDir: job.userDataDir,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    // every host but the test's server fails to resolve; no proxy is used
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--no-proxy-server",
    "--window-size=1280,1400",
  ],
  defaultViewport: { width: 1280, height: 1400 },
});
const results = [];
let state = null;
try {
  // ReplayWeb.page's first load races its service worker: the embed reloads
  // its frame a few times, 100 ms apart, until the worker controls it, which a
  // busy machine can outlast. So one embed is loaded until the worker is
  // active; every view then opens with the worker already in charge.
  const warm = await browser.newPage();
  await warm.goto(job.views[0].page, { waitUntil: "load" });
  const warmDeadline = Date.now() + timeoutMs;
  while (state !== "activated" && Date.now() < warmDeadline) {
    state = await warm.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration("/replay/");
      return registration && registration.active ? registration.active.state : null;
    });
    if (state !== "activated") await sleep(250);
  }
  await warm.close();
  for (const view of job.views) {
    const page = await browser.newPage();
    const logs = [];
    const offsite = [];
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (["http:", "https:", "ws:", "wss:"].includes(url.protocol) && url.hostname !== "127.0.0.1") {
        offsite.push(request.url());
      }
    });
    page.on("console", (msg) => logs.push(`${msg.type()}: ${msg.text()}`));
    page.on("pageerror", (err) => logs.push(`pageerror: ${err.message}`));
    await page.goto(view.page, { waitUntil: "load" });
    const seen = view.kind === "search" ? await searchView(page, view) : await replayView(page, view);
    if (view.screenshot) {
      await sleep(500); // images and fonts of the replayed page
      await page.screenshot({ path: view.screenshot });
    }
    results.push({ name: view.name, ...seen, offsite, logs: seen.error ? logs.slice(-40) : [] });
    await page.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify({ worker: state, views: results }));
