// Test harness: the page's reply module (reply.js) and job store, for Playwright's page.evaluate.
import * as reply from "/js/reply.js";
import * as store from "/js/store.js";

window.cloudtabReply = { reply, store };
document.body.dataset.ready = "1";
