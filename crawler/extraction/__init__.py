"""The site adapters run in a pool of worker processes, off the reactor, with a time limit per page."""
