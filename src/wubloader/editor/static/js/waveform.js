// The waveform strip under the player, drawn from the restreamer's audio peaks of each stored hour
// (kept by the restreamer once decoded) as each hour arrives, with a marker following the playhead.
import { request, restreamerUrl } from './api.js';

const HOUR_MS = 3600000;
const BIN_MS = 50; // the restreamer's peaks: one byte per 50 ms
const NO_AUDIO = 255;
const LEVELS = 254;
const WIDTH = 1920;
const HEIGHT = 100;

/** The restreamer's URL of the peaks of the hour starting at `hour` (a Date). */
export function peaksUrl(config, channel, quality, hour) {
  const name = hour.toISOString().slice(0, 13);
  return restreamerUrl(config, `/waveform/${encodeURIComponent(channel)}/${encodeURIComponent(quality ?? 'source')}/${name}.peaks`);
}

/** Start times (ms) of the hours that [start, end) touches. */
export function hoursOf(start, end) {
  const hours = [];
  for (let h = Math.floor(start.getTime() / HOUR_MS) * HOUR_MS; h < end.getTime(); h += HOUR_MS) hours.push(h);
  return hours;
}

export class Waveform {
  constructor(container, player, { onError }) {
    this.player = player;
    this.onError = onError;
    this.peaks = new Map(); // hour start (ms) → Uint8Array of levels
    this.pending = null; // the requested animation frame of a repaint
    this.canvas = Object.assign(document.createElement('canvas'), { className: 'waveform-image', width: WIDTH, height: HEIGHT });
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', 'Audio waveform of the loaded window');
    this.marker = Object.assign(document.createElement('div'), { className: 'waveform-marker' });
    this.marker.setAttribute('aria-hidden', 'true');
    container.replaceChildren(this.canvas, this.marker);
    this.container = container;
    container.addEventListener('click', (event) => {
      const box = container.getBoundingClientRect();
      player.seekTo(((event.clientX - box.left) / box.width) * player.duration);
    });
    const video = player.video;
    for (const name of ['timeupdate', 'seeked', 'durationchange']) video.addEventListener(name, () => this.update());
    video.addEventListener('durationchange', () => this.paint());
    player.addEventListener('levelloaded', () => this.paint());
    video.addEventListener('play', () => this.follow());
  }

  /**
   * Draw the window [start, end) as soon as the player knows its qualities: `urlFor(quality, hour)`
   * builds the URL of one hour's peaks. An open window (no end) is drawn up to the content loaded so
   * far. `this.drawing` is the drawing's promise (null until it starts).
   */
  drawWindow(start, end, urlFor) {
    this.drawing = null;
    this.peaks = new Map();
    this.paint();
    this.player.addEventListener(end ? 'levels' : 'levelloaded', () => {
      const until = end ?? this.player.contentEnd() ?? new Date();
      this.drawing = this.show(hoursOf(start, until).map((hour) => [hour, urlFor(this.player.qualityName(), new Date(hour))]));
    }, { once: true });
  }

  /** Fetch every hour's peaks at once and paint as each arrives; errors carry the server's reason. */
  async show(hours) {
    this.container.dataset.state = 'loading';
    try {
      await Promise.all(hours.map(async ([hour, url]) => {
        this.peaks.set(hour, new Uint8Array(await (await request(url)).arrayBuffer()));
        this.paint();
      }));
      if (!this.player.ready) await new Promise((resolve) => this.player.addEventListener('levelloaded', resolve, { once: true }));
      this.draw();
      this.container.dataset.state = 'drawn';
      performance.mark('waveform-drawn');
    } catch (error) {
      this.container.dataset.state = 'failed';
      this.onError(`Waveform unavailable: ${error.message}`);
    }
  }

  /** The loudest level in wall-clock [from, until) (ms), or -1 if no audio is known there. */
  level(from, until) {
    let best = -1;
    for (let bin = Math.floor(from / BIN_MS); bin * BIN_MS < until; bin += 1) {
      const at = bin * BIN_MS;
      const hour = Math.floor(at / HOUR_MS) * HOUR_MS;
      const value = this.peaks.get(hour)?.[(at - hour) / BIN_MS];
      if (value !== undefined && value !== NO_AUDIO && value > best) best = value;
    }
    return best;
  }

  /** Draw what is known now: each pixel is a slice of player time, mapped to wall time per fragment. */
  /** Repaint at the next frame, once however many events ask (they come in bursts while loading). */
  paint() {
    this.pending ??= requestAnimationFrame(() => {
      this.pending = null;
      this.draw();
    });
  }

  draw() {
    const context = this.canvas.getContext('2d');
    context.clearRect(0, 0, WIDTH, HEIGHT);
    const frags = this.player.timeline;
    const duration = this.player.duration;
    if (!frags.length || !duration || !this.peaks.size) return;
    context.fillStyle = '#e0e0e0';
    let f = 0;
    for (let x = 0; x < WIDTH; x += 1) {
      const t = (x / WIDTH) * duration;
      while (f < frags.length - 1 && frags[f].start + frags[f].duration <= t) f += 1;
      const frag = frags[f];
      if (frag.programDateTime === null || t < frag.start) continue;
      const from = frag.programDateTime + (t - frag.start) * 1000;
      const value = this.level(from, from + (duration / WIDTH) * 1000);
      if (value < 0) continue;
      const height = Math.max(1, (value / LEVELS) * HEIGHT);
      context.fillRect(x, (HEIGHT - height) / 2, 1, height);
    }
  }

  update() {
    const duration = this.player.duration;
    const fraction = duration ? Math.min(1, this.player.time / duration) : 0;
    this.marker.style.left = `${fraction * 100}%`;
  }

  /** Move the marker every frame while playing (timeupdate alone is only ~4 Hz). */
  follow() {
    const step = () => {
      this.update();
      if (!this.player.video.paused) requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }
}
