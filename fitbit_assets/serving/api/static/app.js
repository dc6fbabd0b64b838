// Coordinator dashboard: plain JavaScript over the JSON API, charts by the vendored uPlot. No build step.
// Routes: #/ cohort table (sorted by risk), #/p/<participant_id> heart-rate chart + adherence calendar + nightly sleep.
"use strict";

const FLAG_LABELS = {
  reconsent_needed: "re-consent needed", no_data: "no data", not_syncing: "not syncing", non_adherent: "non-adherent", at_risk: "at risk", ok: "ok",
};
const RANGES = [["1 day", 1], ["7 days", 7], ["30 days", 30], ["All", null]];
const view = document.getElementById("view");
let chart = null;

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
const fmtPct = (v) => (v === null || v === undefined ? "—" : `${v.toFixed(1)} %`);

function showError(error) {
  view.replaceChildren(h("div", { class: "error-box", "data-testid": "error" }, String(error.message || error)));
}

// ---------------------------------------------------------------------------------------------- cohort
async function cohortView() {
  view.replaceChildren(h("p", { class: "meta" }, "Loading cohort…"));
  const cohort = await api("/api/cohort");
  const rows = cohort.participants.map((p) =>
    h("tr", {
      "data-testid": "cohort-row", dataset: { participant: p.participant_id, flag: p.flag },
      onclick: () => { location.hash = `#/p/${encodeURIComponent(p.participant_id)}`; },
    },
      h("td", {}, h("span", { class: `flag flag-${p.flag}` }, FLAG_LABELS[p.flag] || p.flag)),
      h("td", {}, h("a", { href: `#/p/${encodeURIComponent(p.participant_id)}` }, p.participant_id)),
      h("td", { class: "num" }, fmtPct(p.trailing_7d_adherence_pct)),
      h("td", { class: "num" }, p.consecutive_invalid_days ?? "—"),
      h("td", {}, fmtTime(p.last_data)),
      h("td", {}, fmtTime(p.last_sync)),
      h("td", {}, p.flag_reason || ""),
    ));
  view.replaceChildren(
    h("h1", {}, "Cohort"),
    h("p", { class: "meta" }, `${cohort.participants.length} participants, most urgent first · as of ${fmtTime(cohort.as_of)}`),
    h("table", { "data-testid": "cohort-table" },
      h("thead", {}, h("tr", {}, ["Flag", "Participant", "7-day adherence", "Invalid days in a row", "Last data",
        "Last sync", "Why"].map((c) => h("th", {}, c)))),
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

function heatColor(pct) {
  const hue = Math.round(Math.max(0, Math.min(100, pct)) * 1.2); // 0 = red .. 120 = green
  return `hsl(${hue}, 62%, 45%)`;
}

function drawHeatmap(container, days) {
  container.replaceChildren();
  if (!days.length) {
    container.append(h("p", { class: "meta", "data-testid": "heatmap-empty" }, "No adherence computed yet."));
    return;
  }
  const byDate = new Map(days.map((d) => [d.local_date, d]));
  const first = new Date(`${days[0].local_date}T00:00:00Z`);
  const last = new Date(`${days[days.length - 1].local_date}T00:00:00Z`);
  const grid = h("div", { class: "heatmap", "data-testid": "heatmap" });
  const pad = (first.getUTCDay() + 6) % 7; // Monday first
  for (let i = 0; i < pad; i++) grid.append(h("div", { class: "cell pad" }));
  for (let d = new Date(first); d <= last; d.setUTCDate(d.getUTCDate() + 1)) {
    const date = d.toISOString().slice(0, 10);
    const day = byDate.get(date);
    const title = day
      ? `${date}: ${day.adherence_pct.toFixed(0)} % worn (${day.wear_minutes} of ${day.day_minutes} min), ` +
        `${day.valid_day ? "valid" : "INVALID"} day, longest gap ${day.longest_gap_minutes} min` +
        (day.imputed_minutes ? `, ${day.imputed_minutes} min imputed` : "")
      : `${date}: not computed`;
    grid.append(h("div", {
      class: `cell${day && !day.valid_day ? " invalid" : ""}`, title,
      style: day ? `background:${heatColor(day.adherence_pct)}` : null,
      "data-testid": "heatmap-cell", dataset: { date, pct: day ? day.adherence_pct.toFixed(1) : "" },
    }));
  }
  const weekdays = h("div", { class: "weekdays" }, ["Mon", "", "Wed", "", "Fri", "", "Sun"].map((d) => h("div", {}, d)));
  container.append(h("div", { class: "heatmap-wrap" }, weekdays, grid),
    h("div", { class: "legend" },
      h("span", {}, h("span", { class: "swatch", style: `background:${heatColor(0)}` }), "0 %"),
      h("span", {}, h("span", { class: "swatch", style: `background:${heatColor(50)}` }), "50 %"),
      h("span", {}, h("span", { class: "swatch", style: `background:${heatColor(100)}` }), "100 % worn"),
      h("span", {}, h("span", { class: "swatch", style: "outline:2px solid #c62828" }), "invalid day")));
}

function fmtMinutes(minutes) {
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

// One bar per night (dateOfSleep), its height the nightly sleep minutes; empty slot: no sleep document loaded.
function drawSleep(container, sleep) {
  container.replaceChildren();
  if (!sleep.nights.length) {
    container.append(h("p", { class: "meta", "data-testid": "sleep-empty" }, "No sleep loaded yet."));
    return;
  }
  const most = Math.max(600, ...sleep.nights.map((n) => n.time_in_bed));
  const bars = h("div", { class: "sleep-bars", "data-testid": "sleep-bars" });
  for (const night of sleep.nights) {
    const title = night.sleep_records
      ? `${night.local_date}: ${fmtMinutes(night.minutes_asleep)} asleep, ${night.time_in_bed} min in bed, ` +
        `${night.sleep_records} sleep record(s)` + (night.main_sleep_start
        ? `, main sleep ${fmtTime(night.main_sleep_start)} – ${fmtTime(night.main_sleep_end)}` : "")
      : `${night.local_date}: no sleep recorded`;
    bars.append(h("div", { class: "night", title, "data-testid": "sleep-night",
      dataset: { date: night.local_date, minutesAsleep: String(night.minutes_asleep) } },
      h("div", { class: "in-bed", style: `height:${(100 * night.time_in_bed / most).toFixed(1)}%` },
        h("div", { class: "asleep", style: `height:${night.time_in_bed ? (100 * night.minutes_asleep / night.time_in_bed).toFixed(1) : 0}%` })),
      h("span", { class: "label" }, night.minutes_asleep ? String(night.minutes_asleep) : "–")));
  }
  const slept = sleep.nights.filter((n) => n.minutes_asleep > 0);
  const mean = slept.length ? Math.round(slept.reduce((a, n) => a + n.minutes_asleep, 0) / slept.length) : 0;
  container.append(bars,
    h("p", { class: "meta", "data-testid": "sleep-meta" },
      `${slept.length} of ${sleep.nights.length} nights with sleep · mean ${fmtMinutes(mean)} asleep`),
    h("div", { class: "legend" },
      h("span", {}, h("span", { class: "swatch", style: "background:#3949ab" }), "minutes asleep (labelled)"),
      h("span", {}, h("span", { class: "swatch", style: "background:#c5cae9" }), "time in bed")));
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
  const dialog = h("dialog", { "data-testid": "contact-dialog" },
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
      h("button", { onclick: () => dialog.close() }, "Close"),
      status));
  document.body.append(dialog);
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
  drawSleep(sleepBox, sleep);

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
      `${fmtTime(series.start)} – ${fmtTime(series.end)}`;
  }
  buttons.forEach((b) => b.addEventListener("click", () => load(b.dataset.days === "all" ? null : Number(b.dataset.days)).catch(showError)));
  await load(7);
}

// ------------------------------------------------------------------------------------------- router
async function route() {
  const match = location.hash.match(/^#\/p\/(.+)$/);
  document.body.dataset.ready = "false";
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
