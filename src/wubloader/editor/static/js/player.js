// The video player: hls.js over a restreamer playlist, seeking, frame steps, speeds, and the mapping
// between time into the video ("player time") and wall-clock time (from PROGRAM-DATE-TIME).
import Hls from '/editor/vendor/hls.min.js';

export const SPEEDS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 4, 8];

const NO_VIDEO = 'There is no video between the chosen start and end times.';

export class Player extends EventTarget {
  /** `onError(message)` receives every fatal playback problem, with the server's reason when known. */
  constructor(video, { onError }) {
    super();
    this.video = video;
    this.onError = onError;
    this.hls = null;
    this.details = null;
    this.timeline = [];
    this.timelineLevel = null;
  }

  /** Load a master playlist URL; resolves once the first media playlist is parsed (player time known). */
  load(url) {
    this.destroy();
    if (!Hls.isSupported()) {
      this.onError('This browser cannot play HLS video (no Media Source Extensions).');
      return Promise.resolve(false);
    }
    // Holes are DISCONTINUITY joins in the playlist; a big tolerated buffer hole lets playback run on.
    // The first fragment is fetched while the media element is still being attached (startFragPrefetch).
    const hls = new Hls({ maxBufferHole: 600, enableWorker: true, startPosition: 0, startFragPrefetch: true });
    this.hls = hls;
    const ready = new Promise((resolve) => {
      hls.on(Hls.Events.LEVEL_LOADED, (_event, data) => {
        performance.mark('playlist-parsed');
        this.details = data.details;
        this.extendTimeline(data.level, data.details.fragments);
        this.dispatchEvent(new Event('levelloaded'));
        resolve(true);
      });
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (data.fatal && this.handleFatal(data)) resolve(false);
      });
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => this.dispatchEvent(new Event('levels')));
    // Marks for the editor benchmark's breakdown of where the time to the first frame goes.
    hls.once(Hls.Events.FRAG_LOADED, () => performance.mark('first-fragment-loaded'));
    hls.once(Hls.Events.FRAG_BUFFERED, () => performance.mark('first-fragment-buffered'));
    // The first decoded frame: the player is ready (a mark the editor benchmark reads).
    this.video.addEventListener('loadeddata', () => performance.mark('player-ready'), { once: true });
    hls.loadSource(url);
    hls.attachMedia(this.video);
    return ready;
  }

  /** Recover what can be recovered; returns true when playback is over (error shown). */
  handleFatal(data) {
    const reason = data.response?.text?.trim?.();
    if (data.details === Hls.ErrorDetails.MANIFEST_PARSING_ERROR || data.details === 'levelEmptyError') {
      this.onError(NO_VIDEO);
    } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
      this.hls.recoverMediaError();
      return false;
    } else if (data.response?.code) {
      this.onError(`Video could not be loaded (${data.response.code}): ${reason || data.details}`);
    } else {
      this.onError(`Video playback failed: ${data.details}${data.error ? ` (${data.error.message})` : ''}`);
    }
    this.destroy();
    return true;
  }

  /**
   * The playlist's own timeline (EXTINF offsets, PROGRAM-DATE-TIME), kept apart: hls.js later moves a
   * parsed fragment's start and duration to its audio's or video's timestamps (a frame apart, in an
   * order that varies), and a reloaded playlist carries the moved values, so times set at one moment
   * would disagree with the same frame read at another. Each fragment is kept as first listed; a
   * reload only appends the new ones (a live playlist grows, its earlier lines never change).
   * Every wall <-> video mapping uses this timeline, which never moves.
   */
  extendTimeline(level, fragments) {
    if (level !== this.timelineLevel) {
      this.timeline = [];
      this.timelineLevel = level;
    }
    for (const { sn, start, duration, programDateTime } of fragments) {
      const last = this.timeline[this.timeline.length - 1];
      if (last && sn <= last.sn) continue;
      this.timeline.push({ sn, start: last ? last.start + last.duration : start, duration, programDateTime });
    }
  }

  destroy() {
    this.hls?.destroy();
    this.hls = null;
    this.details = null;
    this.timeline = [];
    this.timelineLevel = null;
  }

  get ready() {
    return this.details !== null;
  }

  get duration() {
    const d = this.video.duration;
    return Number.isFinite(d) ? d : this.details?.totalduration ?? 0;
  }

  get time() {
    return this.video.currentTime;
  }

  /** Seek to `seconds` into the video, clamped to [0, duration]. */
  seekTo(seconds) {
    this.video.currentTime = Math.min(Math.max(0, seconds), this.duration);
  }

  seekBy(seconds) {
    this.seekTo(this.time + seconds);
  }

  /** Frames per second of the playing quality (the playlist's FRAME-RATE), or null if unknown. */
  get frameRate() {
    const level = this.hls?.levels?.[Math.max(0, this.hls.currentLevel)];
    return level?.frameRate || null;
  }

  /** Step `n` frames (negative = back); false if the frame rate is unknown. */
  stepFrames(n) {
    const rate = this.frameRate;
    if (!rate) return false;
    this.video.pause();
    // The media clock keeps microseconds (truncated): snap a time that is on the frame grid back onto
    // it, so repeated steps never drift.
    const frames = this.time * rate;
    const base = Math.abs(frames - Math.round(frames)) < 0.01 ? Math.round(frames) / rate : this.time;
    this.seekTo(base + n / rate);
    return true;
  }

  togglePlay() {
    if (this.video.paused) this.video.play().catch((e) => this.onError(`Cannot play: ${e.message}`));
    else this.video.pause();
  }

  toggleMute() {
    this.video.muted = !this.video.muted;
  }

  setSpeed(rate) {
    this.video.playbackRate = rate;
  }

  /** `=`: next speed; `-`: previous; `+`: 2x (or the maximum if already ≥ 2x); `_`: slowest; 1x. */
  changeSpeed(op) {
    const rate = this.video.playbackRate;
    const index = SPEEDS.indexOf(rate);
    const next = {
      faster: SPEEDS[Math.min(SPEEDS.length - 1, index < 0 ? SPEEDS.findIndex((s) => s > rate) : index + 1)],
      slower: SPEEDS[Math.max(0, index < 0 ? SPEEDS.findLastIndex((s) => s < rate) : index - 1)],
      double: rate >= 2 ? SPEEDS[SPEEDS.length - 1] : 2,
      slowest: SPEEDS[0],
      normal: 1,
    }[op];
    if (next !== undefined) this.setSpeed(next);
  }

  get levels() {
    return this.hls?.levels?.map((level) => level.name || `${level.height}p`) ?? [];
  }

  /** Name of the playing quality (the first one while on auto), or null before the manifest. */
  qualityName() {
    return this.levels[Math.max(0, this.level)] ?? null;
  }

  /** Wall-clock end of the content in the loaded playlist, or null. */
  contentEnd() {
    const last = this.timeline[this.timeline.length - 1];
    return last && last.programDateTime !== null ? new Date(last.programDateTime + last.duration * 1000) : null;
  }

  get level() {
    return this.hls ? this.hls.currentLevel : -1;
  }

  set level(index) {
    if (this.hls) this.hls.currentLevel = index;
  }

  /** Wall-clock Date shown at `seconds` into the video, or null outside the loaded fragments. */
  wallTime(seconds = this.time) {
    const frag = this.timeline.find((f) => f.start <= seconds && seconds < f.start + f.duration)
      ?? this.lastFragmentEndingAt(seconds);
    if (!frag || frag.programDateTime === null) return null;
    return new Date(Math.round(frag.programDateTime + (seconds - frag.start) * 1000));
  }

  lastFragmentEndingAt(seconds) {
    const last = this.timeline[this.timeline.length - 1];
    return last && Math.abs(last.start + last.duration - seconds) < 1e-6 ? last : null;
  }

  /** Seconds into the video showing wall time `date`; inside a hole, the start of the next fragment. */
  playerTime(date) {
    const at = date.getTime();
    let seen = false;
    for (const frag of this.timeline) {
      const begin = frag.programDateTime;
      if (begin === null) continue;
      if (at < begin) return seen ? frag.start : null;
      seen = true;
      if (at <= begin + frag.duration * 1000) return frag.start + (at - begin) / 1000;
    }
    return null;
  }
}
