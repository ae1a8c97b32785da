// The events page: every event with its state, editor, error and video; filters, search and sort;
// it refreshes itself while open, so a cutter's progress shows up without a reload.
import { authHeaders, buildSignIn } from './auth.js';
import { loadConfig, postJson, requestJson, thrimshimUrl } from './api.js';
import { clearNotices, showError, showInfo } from './notices.js';
import { STATES } from './states.js';
import { formatBusTime, formatUtc, parseIso } from './time.js';

const REFRESH_MS = 2000;
const $ = (id) => document.getElementById(id);

function cell(content) {
  const td = document.createElement('td');
  if (content instanceof Node) td.append(content); else td.textContent = content ?? '';
  return td;
}

function link(href, text) {
  return Object.assign(document.createElement('a'), { href, textContent: text });
}

class EventsPage {
  constructor(config, defaults) {
    this.config = config;
    this.busStart = parseIso(defaults?.bustime_start);
    this.events = [];
    this.failing = false;
    for (const state of STATES) $('filter-state').append(new Option(state, state));
    for (const id of ['filter-state', 'filter-category', 'filter-text', 'sort', 'time-mode']) {
      $(id).addEventListener('input', () => this.render());
    }
    $('filters').addEventListener('submit', (event) => event.preventDefault());
    $('new-event-form').addEventListener('submit', (event) => { event.preventDefault(); this.create(); });
  }

  async refresh() {
    try {
      this.events = await requestJson(thrimshimUrl(this.config, ''));
      if (this.failing) clearNotices();
      this.failing = false;
      this.render();
    } catch (error) {
      // Shown once per outage, not every poll.
      if (!this.failing) showError(`Could not load the events: ${error.message}`);
      this.failing = true;
    }
  }

  time(value) {
    const date = parseIso(value);
    return $('time-mode').value === 'bus' ? formatBusTime(date, this.busStart) : formatUtc(date);
  }

  visible() {
    const state = $('filter-state').value;
    const category = $('filter-category').value;
    const text = $('filter-text').value.trim().toLowerCase();
    const key = $('sort').value;
    const order = (e) => (key === 'state' ? STATES.indexOf(e.state) : e[key] ?? '');
    return this.events
      .filter((e) => !state || e.state === state)
      .filter((e) => !category || e.category === category)
      .filter((e) => !text || [e.id, e.description, e.video_title, e.notes, e.category]
        .some((v) => String(v ?? '').toLowerCase().includes(text)))
      .sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  }

  render() {
    const categories = [...new Set(this.events.map((e) => e.category).filter(Boolean))].sort();
    const select = $('filter-category');
    const chosen = select.value;
    select.replaceChildren(new Option('any', ''), ...categories.map((c) => new Option(c, c)));
    select.value = categories.includes(chosen) ? chosen : '';
    const rows = this.visible().map((e) => {
      const tr = document.createElement('tr');
      tr.dataset.id = e.id;
      tr.append(
        cell(this.time(e.event_start)),
        cell(e.category),
        cell(link(`/edit/${encodeURIComponent(e.id)}`, e.description || e.video_title || e.id)),
        cell(Object.assign(document.createElement('span'), { className: 'state', textContent: e.state })),
        cell(e.editor),
        cell(Object.assign(document.createElement('span'), { className: 'error-text', textContent: e.error ?? '' })),
        cell(e.video_link ? link(e.video_link, 'video') : ''),
      );
      return tr;
    });
    $('events').tBodies[0].replaceChildren(...rows);
    $('summary').textContent = `${rows.length} of ${this.events.length} events`;
  }

  async create() {
    const value = (id) => $(id).value.trim();
    const body = {
      id: value('new-id'), sheet_name: value('new-sheet'), category: value('new-category'),
      description: value('new-description'), event_start: value('new-start') || null, event_end: value('new-end') || null,
    };
    try {
      await postJson(thrimshimUrl(this.config, '/events'), body, authHeaders());
      showInfo(`Created event ${body.id}`);
      await this.refresh();
    } catch (error) {
      showError(`Could not create the event: ${error.message}`);
    }
  }
}

async function main() {
  const config = await loadConfig();
  buildSignIn($('signin'), config, showError);
  const defaults = await requestJson(thrimshimUrl(config, '/defaults')).catch((error) => { showError(error); return null; });
  const page = new EventsPage(config, defaults);
  window.wubloaderPage = page;
  await page.refresh();
  document.body.dataset.ready = 'yes';
  setInterval(() => page.refresh(), REFRESH_MS);
}

main().catch((error) => showError(error));
