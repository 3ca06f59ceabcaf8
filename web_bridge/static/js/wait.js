// wait.js — why a job waits at the shop, in the page's words. The kiosk picks the reason
// from a fixed list (KioskStatement.wait_reason, sent as statement.wait_reason), so no
// document data and no printer message can reach the page this way.

import { _ } from "./i18n.js";

// Called at render time so the words follow the page's language.
const WORDS = {
  printer_out_of_paper: () => _("The shop's printer is out of paper; your job is next."),
  printer_paper_jam: () => _("Paper is stuck in the shop's printer; your job is next."),
  printer_out_of_toner: () => _("The shop's printer is out of ink; your job is next."),
  printer_door_open: () => _("The shop's printer needs a moment (a door is open); your job is next."),
  printer_offline: () => _("The shop's printer is not connected right now; your job waits for it."),
  printer_paused: () => _("The shop's printer is paused; your job is next."),
  printer_needs_attention: () => _("The shop's printer needs attention; your job is next."),
  printing_slow: () => _("Printing is taking longer than usual. Ask at the counter if you are in a hurry."),
};

// The words for a job's wait reason while it is taken or printing ("" when there is none).
export function waitText(job) {
  if (!job || !["received", "printing"].includes(job.state)) return "";
  const reason = job.statement && job.statement.wait_reason;
  const words = reason && Object.hasOwn(WORDS, reason) ? WORDS[reason] : null;
  return words ? words() : "";
}
