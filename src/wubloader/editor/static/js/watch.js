// The restreamer view (/watch): any channel's time window, a link to share it, a smart-cut download
// and the current frame as an image.
import { loadConfig, request, requestJson, restreamerUrl, thrimshimUrl } from './api.js';
import { buildControls } from './controls.js';
import { KEY_HELP, bindKeys } from './keys.js';
import { clearNotices, showError } from './notices.js';
import { Player } from './player.js';
import { formatBusTime, parseBusTime, parseClock, parseIso, toIso } from './time.js';
import { Waveform, peaksUrl } from './waveform.js';

const $ = (id) => document.getElementById(id);

/** Read a field as a Date in the chosen frame of reference; null for an empty (live) end. */
function readTime(text, frame, busStart, now) {
  if (!text.trim()) return null;
  const parsed = {
    utc: () => parseIso(text.trim()),
    ago: () => { const s = parseClock(text); return s === null ? null : new Date(now - s * 1000); },
    bus: () => parseBusTime(text, busStart),
  }[frame]();
  if (!parsed) throw new Error(`"${text}" is not a valid ${frame === 'utc' ? 'UTC timestamp' : frame === 'ago' ? 'time ago ([h:]mm:ss)' : 'bus time'}`);
  return parsed;
}

function writeTime(date, frame, busStart, now) {
  if (!date) return '';
  if (frame === 'utc') return toIso(date);
  if (frame === 'bus') return formatBusTime(date, busStart);
  const seconds = Math.max(0, Math.round((now - date.getTime()) / 1000));
  const pad = (n) => String(n).padStart(2, '0');
  return `${Math.floor(seconds / 3600)}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}

class WatchPage {
  constructor(config, defaults) {
    this.config = config;
    this.busStart = parseIso(defaults?.bustime_start);
    this.window = null;
    this.player = new Player($('video'), { onError: showError });
    buildControls($('controls'), this.player);
    this.waveform = new Waveform($('waveform'), this.player, { onError: showError });
    bindKeys(document, this.player, { onUnavailable: showError });
    this.frame = 'ago';
    if (this.busStart) document.querySelector('.bus-only').hidden = false;
    document.querySelectorAll('input[name=frame]').forEach((radio) => {
      radio.addEventListener('change', () => this.switchFrame(radio.value));
    });
    $('window-form').addEventListener('submit', (event) => { event.preventDefault(); this.loadFromForm(); });
    $('download-frame').addEventListener('click', () => this.downloadFrame());
    $('download-cut').addEventListener('click', () => this.refreshCutLink());
  }

  switchFrame(frame) {
    const now = Date.now();
    try {
      const start = readTime($('start').value, this.frame, this.busStart, now);
      const end = readTime($('end').value, this.frame, this.busStart, now);
      $('start').value = writeTime(start, frame, this.busStart, now);
      $('end').value = writeTime(end, frame, this.busStart, now);
    } catch (error) {
      showError(error);
    }
    this.frame = frame;
  }

  async loadChannels(preferred) {
    const channels = await requestJson(restreamerUrl(this.config, '/files'));
    const select = $('channel');
    select.replaceChildren(...channels.map((name) => Object.assign(document.createElement('option'), { value: name, textContent: name })));
    if (preferred && channels.includes(preferred)) select.value = preferred;
  }

  loadFromForm() {
    clearNotices();
    const now = Date.now();
    let start; let end;
    try {
      start = readTime($('start').value, this.frame, this.busStart, now);
      end = readTime($('end').value, this.frame, this.busStart, now);
    } catch (error) {
      showError(error);
      return;
    }
    if (!start) { showError('A start time is required.'); return; }
    if (end && end <= start) { showError('The end must be after the start.'); return; }
    return this.load($('channel').value, start, end);
  }

  async load(channel, start, end) {
    this.window = { channel, start, end };
    const share = new URLSearchParams({ channel, start: toIso(start) });
    if (end) share.set('end', toIso(end));
    $('share-link').href = `/watch?${share}`;
    this.refreshCutLink();
    const params = { start: toIso(start), end: end ? toIso(end) : null };
    const playing = this.player.load(restreamerUrl(this.config, `/playlist/${encodeURIComponent(channel)}.m3u8`, params));
    this.waveform.drawWindow(start, end, (quality, hour) => peaksUrl(this.config, channel, quality, hour));
    const ok = await playing;
    await this.waveform.drawing;
    document.body.dataset.loaded = ok ? 'yes' : 'failed';
  }

  quality() {
    return encodeURIComponent(this.player.qualityName() ?? 'source');
  }

  refreshCutLink() {
    if (!this.window) return;
    const { channel, start, end } = this.window;
    $('download-cut').href = restreamerUrl(this.config, `/cut/${encodeURIComponent(channel)}/${this.quality()}.ts`,
      { type: 'smart', allow_holes: 'true', range: `${toIso(start)},${toIso(end ?? new Date())}` });
  }

  async downloadFrame() {
    const when = this.player.wallTime();
    if (!this.window || !when) { showError('Load a video first: there is no frame to download.'); return; }
    try {
      const url = restreamerUrl(this.config, `/frame/${encodeURIComponent(this.window.channel)}/${this.quality()}.png`, { timestamp: toIso(when) });
      const blob = await (await request(url)).blob();
      const link = Object.assign(document.createElement('a'), {
        href: URL.createObjectURL(blob), download: `${toIso(when).replace(/:/g, '-')}.png`,
      });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    } catch (error) {
      showError(`Could not download the frame: ${error.message}`);
    }
  }
}

function fillKeyHelp() {
  $('key-help').tBodies[0].replaceChildren(...KEY_HELP.map(([key, action]) => {
    const row = document.createElement('tr');
    row.append(Object.assign(document.createElement('td'), { textContent: key }), Object.assign(document.createElement('td'), { textContent: action }));
    return row;
  }));
}

async function main() {
  fillKeyHelp();
  const config = await loadConfig();
  const defaults = config.thrimshim === null ? null
    : await requestJson(thrimshimUrl(config, '/defaults')).catch((error) => { showError(error); return null; });
  const page = new WatchPage(config, defaults);
  window.wubloaderPage = page;
  const query = new URLSearchParams(location.search);
  await page.loadChannels(query.get('channel') ?? defaults?.video_channel);
  if (query.get('start')) {
    page.frame = 'utc';
    document.querySelector('input[name=frame][value=utc]').checked = true;
    $('start').value = query.get('start');
    $('end').value = query.get('end') ?? '';
    await page.loadFromForm();
  }
  document.body.dataset.ready = 'yes';
}

main().catch((error) => showError(error));
