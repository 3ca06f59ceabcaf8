// Test harness: exposes pricing.js to Playwright's page.evaluate.
import * as pricing from "/js/pricing.js";

window.pricing = pricing;
document.body.dataset.ready = "1";
