// Coordinator dashboard: plain JavaScript over the JSON API, charts by the vendored uPlot. No build step.
// Routes: #/ cohort (each participant's status, since when, evidence and what to do; most urgent first),
// #/p/<participant_id> heart-rate chart + adherence calendar + nightly sleep. Times are in the participant's zone.
"use strict";

const RANGES = [["1 day", 1], ["7 days", 7], ["30 days", 30], ["All", null]];
const view = document.getElementById("view");
let chart = null;
let openDialog = null; // the contact dialog, bound to the participant page it was opened on

// DOM helper: text goes through textContent, never innerHTML, so data cannot inject markup.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Every API call: the session cookie (same origin), and on unsafe methods the session's CSRF token; a 401 goes
// to the sign-in page (/signin), which comes back here.
let csrfToken = null;
async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  const method = (options.method || "GET").toUpperCase();
  if (method !== "GET" && method !== "HEAD") {
    if (csrfToken === null) csrfToken = (await api("/api/session")).csrf_token || "";
    headers["X-CSRF-Token"] = csrfToken;
  }
  const response = await fetch(path, { ...options, headers, credentials: "same-origin" });
  if (response.status === 401) {
    window.location.assign(`/signin?next=${encodeURIComponent(window.location.hash || "#/")}`);
    throw new Error("401: sign in");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail || body);
    throw new Error(`${response.status}: ${detail}`);
  }
  return body;
}

const fmtTime = (iso) => (iso ? iso.replace("T", " ").replace(/:\d\d(\.\d+)?(Z|\+00:00)$/, " UTC") : "—");
// A moment in the participant's zone, labelled: "2026-11-29 19:57 PST". Each locale knows the abbreviations of
// its own region's zones (en-US: PST, EDT; en-GB: BST, CEST), so the first that is not a bare "GMT+1" is used.
function zoneAbbreviation(date, timezone) {
  const names = ["en-US", "en-GB"].map((locale) => new Intl.DateTimeFormat(locale, { timeZone: timezone, timeZoneName: "short" })
    .formatToParts(date).find((p) => p.type === "timeZoneName").value);
  return names.find((name) => !/^(GMT|UTC)[+-]/.test(name)) || names[0];
}

function fmtLocal(iso, timezone, withDate = true) {
  if (!iso) return "—";
  const date = new Date(iso);
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(date).map((p) => [p.type, p.value]));
  const time = `${parts.hour}:${parts.minute} ${zoneAbbreviation(date, timezone)}`;
  return withDate ? `${parts.year}-${parts.month}-${parts.day} ${time}` : time;
}
const fmtPct = (v) => (v === null || v === undefined ? "—" : `${v.toFixed(1)} %`);

function showError(error) {
  view.replaceChildren(h("div", { class: "error-box", "data-testid": "error" }, String(error.message || error)));
}

// ---------------------------------------------------------------------------------------------- cohort
// One row per participant, most urgent first (the API's order). Below 720 px each row is a card (style.css), so
// the status, the evidence and the action stay on screen without scrolling sideways.
const COHORT_COLUMNS = ["Status", "Participant", "What we see", "What to do", "7-day adherence", "Last data", "Last sync"];

async function cohortView() {
  view.replaceChildren(h("p", { class: "meta" }, "Loading cohort…"));
  const cohort = await api("/api/cohort");
  const cell = (label, attrs, ...children) => h("td", { "data-label": label, ...attrs }, ...children);
  const rows = cohort.participants.map((p) =>
    h("tr", {
      "data-testid": "cohort-row", dataset: { participant: p.participant_id, status: p.status },
      onclick: () => { location.hash = `#/p/${encodeURIComponent(p.participant_id)}`; },
    },
      cell("Status", { class: "status-cell" }, h("span", { class: `flag flag-${p.status}`, "data-testid": "status" }, p.status_words),
        p.since ? h("span", { class: "since", "data-testid": "since" }, `since ${p.since}`) : null),
      cell("Participant", {}, h("a", { href: `#/p/${encodeURIComponent(p.participant_id)}` }, p.participant_id),
        h("span", { class: "tz" }, p.timezone)),
      cell("What we see", { class: "wrap", "data-testid": "evidence" }, p.evidence),
      cell("What to do", { class: "wrap action", "data-testid": "action" }, p.action),
      cell("7-day adherence", { class: "num" }, fmtPct(p.trailing_7d_adherence_pct)),
      cell("Last data", {}, fmtLocal(p.last_data, p.timezone)),
      cell("Last sync", {}, fmtLocal(p.last_sync, p.timezone)),
    ));
  view.replaceChildren(
    h("h1", {}, "Cohort"),
    h("p", { class: "meta" }, `${cohort.participants.length} participants, most urgent first · as of ${fmtTime(cohort.as_of)} · ` +
      "times in each participant's zone"),
    h("table", { class: "cohort", "data-testid": "cohort-table" },
      h("thead", {}, h("tr", {}, COHORT_COLUMNS.map((c) => h("th", {}, c)))),
      h("tbody", {}, rows)),
  );
}

// -------------------------------------------------------------------------------------- participant
function withGaps(series) {
  // Break the line where buckets are missing (non-wear), instead of drawing across the gap.
  const step = { raw: 60, "1m": 60, "1h": 3600, "1d": 86400 }[series.resolution];
  const t = [], value = [], lo = [], hi = [], imputed = [];
  for (let i = 0; i < series.t.length; i++) {
    if (i > 0 && series.t[i] - series.t[i - 1] > step * 1.5) {
      t.push(series.t[i - 1] + step); value.push(null); lo.push(null); hi.push(null); imputed.push(null);
    }
    const flagged = series.imputed ? series.imputed[i] : false;
    t.push(series.t[i]);
    value.push(series.value[i]);
    lo.push(series.min[i]);
    hi.push(series.max[i]);
    imputed.push(flagged ? series.value[i] : null);
  }
  return { t, value, lo, hi, imputed };
}

function drawChart(container, series, timezone) {
  if (chart) { chart.destroy(); chart = null; }
  const data = withGaps(series);
  const width = Math.max(320, container.clientWidth - 4);
  const opts = {
    width, height: 320,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timezone),
    scales: { x: { time: true } },
    axes: [{}, { label: series.unit, size: 50 }],
    series: [
      {},
      { label: series.resolution === "raw" ? "bpm" : "mean bpm", stroke: "#1565c0", width: 1.5, points: { show: false } },
      { label: "min", stroke: "#90caf9", width: 1, points: { show: false } },
      { label: "max", stroke: "#ef9a9a", width: 1, points: { show: false } },
      {
        label: "imputed", stroke: "#ef6c00", fill: "#ef6c00", width: 0, paths: () => null,
        points: { show: true, size: 7, stroke: "#ef6c00", fill: "#ef6c00" },
      },
    ],
  };
  chart = new uPlot(opts, [data.t, data.value, data.lo, data.hi, data.imputed], container);
  const imputedPoints = data.imputed.filter((v) => v !== null).length;
  Object.assign(container.dataset, {
    rendered: "true", points: String(series.points), resolution: series.resolution, imputedPoints: String(imputedPoints),
  });
}

// Valid days in greens (darker = worn longer); invalid days striped red and labelled, never a nearby colour.
function validColor(pct) {
  const lightness = Math.round(80 - 45 * Math.max(0, Math.min(100, pct)) / 100); // 80 % (light) .. 35 % (dark)
  return `hsl(130, 45%, ${lightness}%)`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// A calendar: one row per week (Monday first), each day with its date, % worn and "invalid" written on it.
function drawHeatmap(container, days) {
  container.replaceChildren();
  if (!days.length) {
    container.append(h("p", { class: "meta", "data-testid": "heatmap-empty" }, "No adherence computed yet."));
    return;
  }
  const byDate = new Map(days.map((d) => [d.local_date, d]));
  const first = new Date(`${days[0].local_date}T00:00:00Z`);
  const last = new Date(`${days[days.length - 1].local_date}T00:00:00Z`);
  const grid = h("div", { class: "calendar", "data-testid": "heatmap" },
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map((d) => h("div", { class: "weekday" }, d)));
  const pad = (first.getUTCDay() + 6) % 7; // Monday first
  for (let i = 0; i < pad; i++) grid.append(h("div", { class: "cell pad" }));
  for (let d = new Date(first); d <= last; d.setUTCDate(d.getUTCDate() + 1)) {
    const date = d.toISOString().slice(0, 10);
    const day = byDate.get(date);
    const dateLabel = d.getTime() === first.getTime() || d.getUTCDate() === 1
      ? `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}` : String(d.getUTCDate());
    const title = day
      ? `${date}: ${day.adherence_pct.toFixed(0)} % worn (${day.wear_minutes} of ${day.day_minutes} min), ` +
        `${day.valid_day ? "valid" : "INVALID"} day (valid >= ${day.valid_day_minutes} min), longest gap ${day.longest_gap_minutes} min` +
        (day.imputed_minutes ? `, ${day.imputed_minutes} min imputed` : "")
      : `${date}: not computed`;
    const state = !day ? "missing" : day.valid_day ? "valid" : "invalid";
    grid.append(h("div", {
      class: `cell ${state}`, title, "aria-label": title,
      style: day && day.valid_day ? `background:${validColor(day.adherence_pct)}${day.adherence_pct > 60 ? ";color:#fff" : ""}` : null,
      "data-testid": "heatmap-cell", dataset: { date, pct: day ? day.adherence_pct.toFixed(1) : "" },
    },
      h("span", { class: "date", "data-testid": "cell-date" }, dateLabel),
      h("span", { class: "pct" }, day ? `${day.adherence_pct.toFixed(0)} %` : "—"),
      day && !day.valid_day ? h("span", { class: "mark" }, "invalid") : null));
  }
  container.append(grid,
    h("div", { class: "legend" },
      h("span", {}, h("span", { class: "swatch", style: `background:${validColor(45)}` }), "valid day, light = less worn"),
      h("span", {}, h("span", { class: "swatch", style: `background:${validColor(100)}` }), "100 % worn"),
      h("span", {}, h("span", { class: "swatch invalid-swatch" }), "invalid day (below the valid-day minutes)"),
      h("span", {}, h("span", { class: "swatch", style: "background:#eee" }), "not computed")));
}

function fmtMinutes(minutes) {
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

// One bar per night (dateOfSleep, written under it), its height the nightly sleep minutes; main sleep times in the
// participant's zone. Bars wrap onto more lines on a narrow screen instead of scrolling.
function drawSleep(container, sleep, timezone) {
  container.replaceChildren();
  if (!sleep.nights.length) {
    container.append(h("p", { class: "meta", "data-testid": "sleep-empty" }, "No sleep loaded yet."));
    return;
  }
  const most = Math.max(600, ...sleep.nights.map((n) => n.time_in_bed));
  const mainSleep = (night) => `${fmtLocal(night.main_sleep_start, timezone)} – ${fmtLocal(night.main_sleep_end, timezone, false)}`;
  const bars = h("div", { class: "sleep-bars", "data-testid": "sleep-bars" });
  for (const night of sleep.nights) {
    const title = night.sleep_records
      ? `${night.local_date}: ${fmtMinutes(night.minutes_asleep)} asleep, ${night.time_in_bed} min in bed, ` +
        `${night.sleep_records} sleep record(s)` + (night.main_sleep_start ? `, main sleep ${mainSleep(night)}` : "")
      : `${night.local_date}: no sleep recorded`;
    bars.append(h("div", { class: "night", title, "aria-label": title, "data-testid": "sleep-night",
      dataset: { date: night.local_date, minutesAsleep: String(night.minutes_asleep) } },
      h("span", { class: "label" }, night.minutes_asleep ? String(night.minutes_asleep) : "–"),
      h("div", { class: "plot" },
        h("div", { class: "in-bed", style: `height:${(100 * night.time_in_bed / most).toFixed(1)}%` },
          h("div", { class: "asleep", style: `height:${night.time_in_bed ? (100 * night.minutes_asleep / night.time_in_bed).toFixed(1) : 0}%` }))),
      h("span", { class: "date", "data-testid": "night-date" }, night.local_date.slice(5))));
  }
  const slept = sleep.nights.filter((n) => n.minutes_asleep > 0);
  const mean = slept.length ? Math.round(slept.reduce((a, n) => a + n.minutes_asleep, 0) / slept.length) : 0;
  const lastMain = [...sleep.nights].reverse().find((n) => n.main_sleep_start);
  container.append(bars,
    h("p", { class: "meta", "data-testid": "sleep-meta" },
      `${slept.length} of ${sleep.nights.length} nights with sleep · mean ${fmtMinutes(mean)} asleep` +
      (lastMain ? ` · main sleep of ${lastMain.local_date}: ${mainSleep(lastMain)}` : "")),
    h("div", { class: "legend" },
      h("span", {}, h("span", { class: "swatch", style: "background:#3949ab" }), "minutes asleep (labelled)"),
      h("span", {}, h("span", { class: "swatch", style: "background:#c5cae9" }), "time in bed"),
      h("span", {}, "night's date (MM-DD) under each bar")));
}

function closeContactDialog() {
  if (openDialog) { openDialog.close(); openDialog.remove(); openDialog = null; }
}

// Contact: a reminder e-mailed to the participant. Pick a template, edit the wording, preview, send.
async function contactDialog(participantId) {
  const url = `/api/participants/${encodeURIComponent(participantId)}/contact`;
  const templates = await api("/api/participants/contact-templates");
  const choice = h("select", { "data-testid": "contact-template" },
    templates.map((t) => h("option", { value: t.key }, t.title)));
  const text = h("textarea", { "data-testid": "contact-message", maxlength: 2000 });
  const override = h("input", { type: "checkbox", "data-testid": "contact-override" });
  const recipient = h("p", { class: "meta", "data-testid": "contact-to" });
  const status = h("span", { class: "status", "data-testid": "contact-status" });
  const request = () => JSON.stringify({ template: choice.value, message: text.value, override: override.checked });
  const preview = async () => {
    const shown = await api(`${url}/preview`, { method: "POST", headers: { "Content-Type": "application/json" }, body: request() });
    recipient.textContent = shown.do_not_contact ? "Marked do-not-contact: nothing can be sent."
      : `To: ${shown.to || "no address on file"} · ${shown.subject}`
        + (shown.contacted_today ? ` · already contacted today (${shown.contacted_today})` : "");
    return shown;
  };
  choice.addEventListener("change", async () => { text.value = ""; text.value = (await preview()).text; });
  closeContactDialog();
  const dialog = h("dialog", { "data-testid": "contact-dialog", dataset: { participant: participantId } },
    h("h2", {}, `Contact ${participantId}`),
    h("p", { class: "meta" }, "A reminder e-mailed to the participant (at most once a day unless overridden)."),
    choice, recipient, text,
    h("label", {}, override, " send although contacted today"),
    h("div", { class: "toolbar" },
      h("button", {
        class: "primary", "data-testid": "contact-send",
        onclick: async () => {
          status.className = "status"; status.textContent = "Sending…";
          try {
            const result = await api(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: request() });
            status.className = "status ok"; status.textContent = `Sent to ${result.to}.`;
          } catch (error) {
            status.className = "status error"; status.textContent = error.message;
          }
        },
      }, "Send"),
      h("button", { "data-testid": "contact-close", onclick: closeContactDialog }, "Close"),
      status));
  dialog.addEventListener("close", () => { if (openDialog === dialog) closeContactDialog(); });
  document.body.append(dialog);
  openDialog = dialog;
  text.value = (await preview()).text;
  dialog.showModal();
}

async function participantView(participantId) {
  const id = encodeURIComponent(participantId);
  view.replaceChildren(h("p", { class: "meta" }, `Loading ${participantId}…`));
  const [participant, adherence, sleep] = await Promise.all([
    api(`/api/participants/${id}`), api(`/api/participants/${id}/adherence`), api(`/api/participants/${id}/sleep`)]);
  const chartBox = h("div", { class: "card", "data-testid": "hr-chart" });
  const chartMeta = h("p", { class: "meta", "data-testid": "chart-meta" });
  const heatBox = h("div", { class: "card", "data-testid": "heatmap-card" });
  const sleepBox = h("div", { class: "card", "data-testid": "sleep-card" });
  const buttons = RANGES.map(([label, days]) => h("button", { dataset: { days: days ?? "all" } }, label));
  view.replaceChildren(
    h("p", {}, h("a", { href: "#/" }, "← Cohort")),
    h("h1", {}, `Participant ${participant.participant_id}`),
    h("p", { class: "meta" }, `${participant.timezone} · enrolled ${participant.enrolled_on} · source ${participant.source}`),
    h("div", { class: "toolbar" },
      h("button", { class: "primary", "data-testid": "contact-button", onclick: () => contactDialog(participantId).catch((error) => window.alert(error.message)) },
        "Contact participant")),
    h("h2", {}, "Heart rate"),
    h("div", { class: "toolbar" }, buttons),
    chartBox, chartMeta,
    h("div", { class: "legend" },
      h("span", {}, h("span", { class: "swatch", style: "background:#1565c0" }), "mean"),
      h("span", {}, h("span", { class: "swatch", style: "background:#ef6c00" }), "imputed (short gap, interpolated)")),
    h("h2", {}, "Daily wear-time adherence"),
    heatBox,
    h("h2", {}, "Nightly sleep"),
    sleepBox,
  );
  drawHeatmap(heatBox, adherence.days);
  drawSleep(sleepBox, sleep, participant.timezone);

  let lastEnd = null;
  async function load(days) {
    buttons.forEach((b) => b.classList.toggle("active", b.dataset.days === String(days ?? "all")));
    const params = new URLSearchParams({ metric: "heart_rate", imputed: "true" });
    if (lastEnd && days) {
      params.set("end", lastEnd);
      params.set("start", new Date(Date.parse(lastEnd) - days * 86400e3).toISOString());
    } else if (!days && adherence.days.length) {
      params.set("start", `${adherence.days[0].local_date}T00:00:00Z`);
      params.set("end", new Date(Date.parse(`${adherence.days[adherence.days.length - 1].local_date}T00:00:00Z`) + 2 * 86400e3).toISOString());
    }
    const series = await api(`/api/participants/${id}/series?${params}`);
    if (!lastEnd) lastEnd = series.end;
    drawChart(chartBox, series, participant.timezone);
    chartMeta.textContent = `${series.points} points at ${series.resolution} resolution (auto, at most ${series.max_points}) · ` +
      `${fmtLocal(series.start, participant.timezone)} – ${fmtLocal(series.end, participant.timezone)}`;
  }
  buttons.forEach((b) => b.addEventListener("click", () => load(b.dataset.days === "all" ? null : Number(b.dataset.days)).catch(showError)));
  await load(7);
}

// ------------------------------------------------------------------------------------------- router
async function route() {
  const match = location.hash.match(/^#\/p\/(.+)$/);
  document.body.dataset.ready = "false";
  closeContactDialog(); // a dialog never outlives the page of its participant
  try {
    if (match) await participantView(decodeURIComponent(match[1]));
    else await cohortView();
  } catch (error) {
    showError(error);
  }
  document.body.dataset.ready = "true";
}

window.addEventListener("hashchange", route);
route();
