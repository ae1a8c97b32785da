// The edit page (/edit/{id}): player over the event's window, ranges and transitions, title and
// description, thumbnail, advanced options, and the actions the row's state allows.
import { ApiError, loadConfig, postJson, requestJson, restreamerUrl, thrimshimUrl } from './api.js';
import { authHeaders, buildSignIn } from './auth.js';
import { ChapterList, DELIMITER, chapterBlock, splitChapters } from './chapters.js';
import { buildControls } from './controls.js';
import { bindKeys } from './keys.js';
import { clearNotices, showError, showInfo } from './notices.js';
import { Player } from './player.js';
import { outputSeconds, playPublished, playableInPage } from './published.js';
import { Ranges } from './ranges.js';
import { ACTION_STATES, allows, metadataEditable, rangesEditable } from './states.js';
import { formatBusTime, formatUtc, formatVideoTime, parseBusTime, parseClock, parseIso, toIso } from './time.js';
import { Waveform, peaksUrl } from './waveform.js';

const $ = (id) => document.getElementById(id);
const MINUTE = 60000;
const STATUS_POLL_MS = 3000;
const PREVIEW_PAD_SECONDS = 5;
const BUTTONS = { submit: 'submit', saveDraft: 'save-draft', submitChanges: 'submit-changes', cancelUpload: 'cancel-upload', forceReset: 'force-reset', manualLink: 'manual-link-button' };
const SAVES = {
  submit: { state: 'EDITED', done: 'Submitted edit', anyway: 'Submit anyway' },
  saveDraft: { state: 'UNEDITED', done: 'Saved draft', anyway: 'Save draft anyway' },
  submitChanges: { state: 'MODIFIED', done: 'Submitted changes', anyway: 'Submit changes anyway' },
};
const SHEET_KEYS = ['sheet_name', 'event_start', 'event_end', 'category', 'description', 'notes', 'tags'];

/** The player's window for an event: 1 min before to 2 min after, widened to hold the saved ranges. */
export function eventWindow(row) {
  const times = (row.video_ranges ?? []).flat().map(parseIso).filter(Boolean);
  const start = parseIso(row.event_start) ?? (times.length ? new Date(Math.min(...times)) : new Date(Date.now() - 10 * MINUTE));
  let windowStart = new Date(start - MINUTE);
  const end = parseIso(row.event_end);
  let windowEnd = end ? new Date(end.getTime() + 2 * MINUTE) : null;
  for (const t of times) {
    if (t < windowStart) windowStart = new Date(t - MINUTE);
    if (windowEnd && t > windowEnd) windowEnd = new Date(t.getTime() + MINUTE);
  }
  return { start: windowStart, end: windowEnd };
}

class EditPage {
  constructor(config, id) {
    Object.assign(this, { config, id, row: null, dirty: false, pending: null });
    this.player = new Player($('video'), { onError: showError });
    buildControls($('controls'), this.player);
    this.waveform = new Waveform($('waveform'), this.player, { onError: showError });
    window.addEventListener('beforeunload', (event) => { if (this.dirty) event.preventDefault(); });
    $('edit-form').addEventListener('input', () => this.markDirty());
    $('edit-form').addEventListener('submit', (event) => event.preventDefault());
    $('window-form').addEventListener('submit', (event) => { event.preventDefault(); this.loadWindow(); });
    $('pad-start').addEventListener('click', () => this.pad('window-start', -MINUTE));
    $('pad-end').addEventListener('click', () => this.pad('window-end', MINUTE));
    $('time-mode').addEventListener('change', () => this.ranges.render());
    for (const action of Object.keys(SAVES)) $(BUTTONS[action]).addEventListener('click', () => this.save(action, false));
    $('override').addEventListener('click', () => this.save(this.pending, true));
    $('cancel-upload').addEventListener('click', () => this.reset(false));
    $('force-reset').addEventListener('click', () => this.reset(true));
    $('manual-link-button').addEventListener('click', () => this.manualLink());
    $('thumbnail-set').addEventListener('click', () => { const t = this.player.wallTime(); if (t) { $('thumbnail-time').value = toIso(t); this.markDirty(); } });
    $('thumbnail-preview-button').addEventListener('click', () => this.previewThumbnail());
    $('preview-close').addEventListener('click', () => this.closePreview());
    $('preview-dialog').addEventListener('cancel', (event) => { event.preventDefault(); this.closePreview(); });
    this.chapters = new ChapterList($('chapter-list'), { player: this.player, formatTime: formatUtc, onChange: () => this.markDirty() });
    $('add-chapter').addEventListener('click', () => { $('chapters-on').checked = true; this.chapters.addAtPlayhead(); });
    $('title-count').setAttribute('aria-live', 'polite');
    $('video-title').addEventListener('input', () => this.countTitle());
  }

  markDirty() {
    this.dirty = true;
  }

  /** The time format of range fields, per the "Times shown as" choice. */
  timeFormat() {
    const mode = $('time-mode').value;
    const busStart = parseIso(this.row?.bustime_start);
    if (mode === 'utc') return { format: (d) => formatUtc(d), parse: (text) => parseIso(text.trim().replace(' ', 'T')) };
    if (mode === 'bus') return { format: (d) => formatBusTime(d, busStart), parse: (text) => parseBusTime(text, busStart) };
    return {
      format: (d) => { const t = this.player.playerTime(d); return t === null ? formatUtc(d) : formatVideoTime(t); },
      parse: (text) => { const s = parseClock(text); return s === null ? parseIso(text.trim().replace(' ', 'T')) : this.player.wallTime(s); },
    };
  }

  /** Start the player as soon as the row is known (it is the slowest part), the rest meanwhile. */
  async load(rowRequest, otherRequests) {
    const row = await rowRequest;
    this.row = row;
    const win = eventWindow(row);
    $('window-start').value = toIso(win.start);
    $('window-end').value = win.end ? toIso(win.end) : '';
    const loading = this.loadWindow();
    const [transitions, templates] = await otherRequests;
    this.ranges = new Ranges($('ranges'), $('clip-bar'), {
      player: this.player, format: () => this.timeFormat(), transitions, onChange: () => this.markDirty(), onPreview: (i) => this.previewJoin(i),
    });
    bindKeys(document, this.player, {
      onUnavailable: showError,
      extra: { '[': () => this.ranges.setFromPlayhead('start'), ']': () => this.ranges.setFromPlayhead('end'), o: () => this.ranges.move(-1), p: () => this.ranges.move(1) },
    });
    $('thumbnail-template').replaceChildren(new Option('(none)', ''), ...templates.map((t) => Object.assign(new Option(t.name, t.name), { title: t.description ?? '' })));
    this.fillInputs(row);
    this.showStatus(row);
    await loading;
    this.dirty = false;
  }

  fillInputs(row) {
    $('heading').textContent = `Edit: ${row.description || row.id}`;
    $('event-category').textContent = row.category || 'no category';
    $('event-times').textContent = `${formatUtc(parseIso(row.event_start))} to ${formatUtc(parseIso(row.event_end))} UTC`;
    $('event-description').textContent = row.description ?? '';
    $('event-notes').textContent = row.notes ? `Notes: ${row.notes}` : '';
    $('title-prefix').textContent = row.title_prefix ?? '';
    $('video-title').value = row.video_title ?? '';
    $('video-title').maxLength = row.title_max_length ?? 100;
    $('video-description').value = row.video_description ?? row.description ?? '';
    $('video-tags').value = (row.video_tags ?? row.tags ?? []).join(', ');
    // Without any template a TEMPLATE thumbnail cannot be made: offer the bare frame instead.
    const noTemplates = $('thumbnail-template').options.length <= 1;
    $('thumbnail-mode').value = row.thumbnail_mode === 'TEMPLATE' && noTemplates ? 'BARE' : row.thumbnail_mode ?? 'BARE';
    $('thumbnail-template').value = row.thumbnail_template ?? '';
    $('thumbnail-time').value = row.thumbnail_time ? toIso(parseIso(row.thumbnail_time)) : '';
    $('allow-holes').checked = Boolean(row.allow_holes);
    $('unlisted').checked = row.public === false;
    const locations = row.upload_locations ?? [];
    $('upload-location').replaceChildren(...locations.map((l) => new Option(l, l)));
    if (row.upload_location && !locations.includes(row.upload_location)) $('upload-location').append(new Option(row.upload_location, row.upload_location));
    $('upload-location').value = row.upload_location ?? locations[0] ?? '';
    $('uploader-whitelist').value = (row.uploader_whitelist ?? []).join(', ');
    $('advanced').open = Boolean(row.allow_holes || row.public === false || row.uploader_whitelist?.length
      || (row.upload_location && row.upload_location !== locations[0]));
    const saved = row.video_ranges?.length ? row.video_ranges.map(([a, b]) => [parseIso(a), parseIso(b)])
      : [[parseIso(row.event_start), parseIso(row.event_end)]];
    this.ranges.set(saved, row.video_transitions ?? []);
    const split = splitChapters($('video-description').value, saved, row.video_transitions ?? []);
    $('video-description').value = split.text;
    this.chapters.set(split.chapters);
    $('chapters-on').checked = split.chapters.length > 0;
    this.countTitle();
  }

  countTitle() {
    const max = this.row?.title_max_length ?? 100;
    $('title-count').textContent = `${$('video-title').value.length} / ${max}`;
  }

  /** State, error and link are always on screen; inputs and buttons follow what the state allows. */
  showStatus(row) {
    $('row-state').textContent = row.state;
    $('row-error').textContent = row.error || 'none';
    const link = row.video_link ? Object.assign(document.createElement('a'), { href: row.video_link, textContent: row.video_link }) : 'none yet';
    $('row-link').replaceChildren(link);
    if (row.video_link && playableInPage(row.video_link)) $('row-link').append(' ', this.playButton(row.video_link));
    $('row-editor').textContent = row.editor ? `${row.editor} at ${formatUtc(parseIso(row.edit_time))}` : '—';
    for (const action of Object.keys(ACTION_STATES)) $(BUTTONS[action]).disabled = !allows(action, row.state);
    $('manual-link').disabled = $('manual-youtube').disabled = !allows('manualLink', row.state);
    const meta = metadataEditable(row.state);
    const cut = rangesEditable(row.state);
    for (const id of ['video-title', 'video-description', 'video-tags', 'chapters-on', 'add-chapter', 'thumbnail-mode', 'thumbnail-template', 'thumbnail-time', 'thumbnail-set', 'unlisted']) $(id).disabled = !meta;
    for (const id of ['allow-holes', 'upload-location', 'uploader-whitelist']) $(id).disabled = !cut;
    if (this.ranges.editable !== cut) this.ranges.setEditable(cut);
    document.body.dataset.state = row.state;
  }

  /** Keep the status current while the page is open (a cutter moves the row on its own). */
  async pollStatus() {
    try {
      const row = await requestJson(thrimshimUrl(this.config, `/${encodeURIComponent(this.id)}`));
      Object.assign(this.row, Object.fromEntries(['state', 'error', 'video_link', 'editor', 'edit_time', 'row_version'].map((k) => [k, row[k]])));
      this.showStatus(this.row);
    } catch (error) {
      if (error.status === 0) return; // transient network trouble; the next poll tells
      showError(`Could not refresh the event's state: ${error.message}`);
    }
  }

  pad(id, millis) {
    const date = parseIso($(id).value) ?? (id === 'window-end' ? new Date() : null);
    if (date) $(id).value = toIso(new Date(date.getTime() + millis));
  }

  async loadWindow() {
    const start = parseIso($('window-start').value);
    const end = $('window-end').value.trim() ? parseIso($('window-end').value) : null;
    if (!start || ($('window-end').value.trim() && !end)) { showError('The window start and end must be UTC timestamps.'); return; }
    const channel = this.row.video_channel;
    const playing = this.player.load(restreamerUrl(this.config, `/playlist/${encodeURIComponent(channel)}.m3u8`, { start: toIso(start), end: end ? toIso(end) : null }));
    this.waveform.drawWindow(start, end, (quality, hour) => peaksUrl(this.config, channel, quality, hour));
    const ok = await playing;
    await this.waveform.drawing;
    this.ranges?.render(); // not yet built: built later, after the player is ready
    document.body.dataset.loaded = ok ? 'yes' : 'failed';
  }

  quality() {
    return encodeURIComponent(this.player.qualityName() ?? this.row.video_quality ?? 'source');
  }

  /** The POST body for a save in `state`; throws an Error naming a bad field. */
  body(state, override) {
    const { ranges, transitions } = this.ranges.value();
    const list = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);
    const allowlist = list($('uploader-whitelist').value);
    const text = $('video-description').value;
    if (text.includes(DELIMITER)) throw new Error(`The description may not contain the chapter delimiter ${DELIMITER.trim()}.`);
    const chapters = $('chapters-on').checked && this.chapters.chapters.length
      ? chapterBlock(this.chapters.chapters, ranges, transitions, { strict: state === 'EDITED' }) : '';
    const thumbTime = $('thumbnail-time').value.trim();
    if (thumbTime && !parseIso(thumbTime)) throw new Error('The thumbnail time must be a UTC timestamp.');
    return {
      ...Object.fromEntries(SHEET_KEYS.map((k) => [k, this.row[k]])),
      state, override_changes: override, row_version: this.row.row_version,
      upload_location: $('upload-location').value || null,
      video_ranges: ranges.map(([a, b]) => [toIso(a), toIso(b)]),
      video_transitions: transitions,
      video_channel: this.row.video_channel, video_quality: this.row.video_quality ?? 'source',
      video_title: $('video-title').value, video_description: text + chapters,
      video_tags: list($('video-tags').value),
      thumbnail_mode: $('thumbnail-mode').value, thumbnail_template: $('thumbnail-template').value || null,
      thumbnail_time: thumbTime ? toIso(parseIso(thumbTime)) : null,
      public: !$('unlisted').checked, allow_holes: $('allow-holes').checked,
      uploader_whitelist: allowlist.length ? allowlist : null,
    };
  }

  async save(action, override) {
    clearNotices();
    $('conflict').hidden = true;
    let body;
    try { body = this.body(SAVES[action].state, override); } catch (error) { showError(error); return; }
    try {
      await postJson(thrimshimUrl(this.config, `/${encodeURIComponent(this.id)}`), body, authHeaders());
    } catch (error) {
      this.showFailure(action, error);
      return;
    }
    this.dirty = false;
    const summary = action === 'submit' ? `: ${body.video_ranges.map(([a, b]) => `${a} to ${b}`).join(', ')}` : '';
    showInfo(`${SAVES[action].done}${summary}`);
    await this.pollStatus();
  }

  showFailure(action, error) {
    if (error.status === 409 && action in SAVES) {
      this.pending = action;
      $('conflict-text').textContent = error.reason;
      $('override').textContent = SAVES[action].anyway;
      $('conflict').hidden = false;
      return;
    }
    if (error.status === 401) showError(`Unauthorized. Did you remember to sign in? (${error.reason})`);
    else showError(error instanceof ApiError ? error.message : `Failed: ${error.message}`);
  }

  async reset(force) {
    if (force && !window.confirm('Force reset: the row goes back to UNEDITED. If a video was already uploaded, an operator must deal with it. Continue?')) return;
    clearNotices();
    try {
      await postJson(thrimshimUrl(this.config, `/reset/${encodeURIComponent(this.id)}`, { force: String(force) }), {}, authHeaders());
      showInfo(force ? 'Row reset' : 'Upload cancelled');
    } catch (error) {
      this.showFailure('reset', error);
    }
    await this.pollStatus();
  }

  async manualLink() {
    clearNotices();
    const body = { link: $('manual-link').value.trim(), upload_location: $('manual-youtube').checked ? 'youtube-manual' : 'manual' };
    try {
      await postJson(thrimshimUrl(this.config, `/manual-link/${encodeURIComponent(this.id)}`), body, authHeaders());
      showInfo('Manual link set');
    } catch (error) {
      this.showFailure('manualLink', error);
    }
    await this.pollStatus();
  }

  /** Play just the join before range `index`: a cut of both sides with the chosen transition. */
  previewJoin(index) {
    const before = this.ranges.ranges[index - 1];
    const after = this.ranges.ranges[index];
    const join = this.ranges.joins[index - 1];
    if (!before.end || !after.start) { showError(`Set the end of range ${index} and the start of range ${index + 1} first.`); return; }
    const pad = (join.type ? join.duration : 0) + PREVIEW_PAD_SECONDS;
    const params = {
      type: 'webm', allow_holes: 'true',
      range: [`${toIso(new Date(before.end - pad * 1000))},${toIso(before.end)}`, `${toIso(after.start)},${toIso(new Date(after.start.getTime() + pad * 1000))}`],
      transition: join.type ? `${join.type},${join.duration}` : '',
    };
    const video = $('preview-video');
    $('preview-heading').textContent = 'Preview of the join';
    video.src = restreamerUrl(this.config, `/cut/${encodeURIComponent(this.row.video_channel)}/${this.quality()}.ts`, params);
    $('preview-dialog').showModal();
    video.play().catch(() => {});
  }

  playButton(link) {
    const button = Object.assign(document.createElement('button'), { type: 'button', id: 'play-published', textContent: 'Play here' });
    button.addEventListener('click', () => {
      let seconds;
      try { const { ranges, transitions } = this.ranges.value(); seconds = outputSeconds(ranges, transitions); } catch (error) { showError(error); return; }
      $('preview-heading').textContent = 'The published video';
      this.stopPublished = playPublished($('preview-video'), link, seconds, showError);
      $('preview-dialog').showModal();
    });
    return button;
  }

  closePreview() {
    this.stopPublished?.();
    this.stopPublished = null;
    $('preview-video').pause();
    $('preview-video').removeAttribute('src');
    $('preview-video').load();
    $('preview-dialog').close();
  }

  /** The thumbnail as the cutter will make it: the restreamer's frame, composed into the template. */
  previewThumbnail() {
    const when = parseIso($('thumbnail-time').value.trim());
    if (!when) { showError('Set a thumbnail time first.'); return; }
    const mode = $('thumbnail-mode').value;
    const template = mode === 'TEMPLATE' ? $('thumbnail-template').value : '';
    if (mode === 'TEMPLATE' && !template) { showError('Choose a template first.'); return; }
    const image = $('thumbnail-frame');
    image.alt = template ? `Thumbnail: the frame at the thumbnail time in template ${template}` : 'Thumbnail: the frame at the thumbnail time';
    image.onerror = () => showError('The thumbnail preview could not be made (is there video at that time?).');
    image.src = restreamerUrl(this.config, `/thumbnail/${encodeURIComponent(this.row.video_channel)}/${this.quality()}.png`,
      { timestamp: toIso(when), template: template || null });
    image.hidden = false;
  }
}

async function main() {
  const config = await loadConfig();
  buildSignIn($('signin'), config, showError);
  const id = decodeURIComponent(location.pathname.split('/').pop());
  // All three at once: the row's own failure is reported by load() below.
  const rowRequest = requestJson(thrimshimUrl(config, `/${encodeURIComponent(id)}`));
  rowRequest.catch(() => {});
  const otherRequests = Promise.all([
    requestJson(thrimshimUrl(config, '/transitions')).catch((error) => { showError(error); return []; }),
    requestJson(thrimshimUrl(config, '/templates')).catch((error) => { showError(error); return []; }),
  ]);
  const page = new EditPage(config, id);
  window.wubloaderPage = page;
  try {
    await page.load(rowRequest, otherRequests);
  } catch (error) {
    showError(`Could not load event ${id}: ${error.message}`);
    document.body.dataset.ready = 'failed';
    return;
  }
  document.body.dataset.ready = 'yes';
  setInterval(() => page.pollStatus(), STATUS_POLL_MS);
}

main().catch((error) => showError(error));
