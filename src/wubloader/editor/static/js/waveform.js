// The waveform strip under the player (a restreamer PNG) with a marker following the playhead.
import { request, restreamerUrl } from './api.js';
import { toIso } from './time.js';

const SIZE = '1920x100';

export function waveformUrl(config, channel, quality, start, end) {
  return restreamerUrl(config, `/waveform/${encodeURIComponent(channel)}/${encodeURIComponent(quality ?? 'source')}.png`,
    { start: toIso(start), end: toIso(end), size: SIZE });
}

export class Waveform {
  constructor(container, player, { onError }) {
    this.player = player;
    this.onError = onError;
    this.image = Object.assign(document.createElement('img'), { className: 'waveform-image', alt: 'Audio waveform of the loaded window' });
    this.marker = Object.assign(document.createElement('div'), { className: 'waveform-marker' });
    this.marker.setAttribute('aria-hidden', 'true');
    container.replaceChildren(this.image, this.marker);
    this.container = container;
    container.addEventListener('click', (event) => {
      const box = container.getBoundingClientRect();
      player.seekTo(((event.clientX - box.left) / box.width) * player.duration);
    });
    const video = player.video;
    for (const name of ['timeupdate', 'seeked', 'durationchange']) video.addEventListener(name, () => this.update());
    video.addEventListener('play', () => this.follow());
  }

  /**
   * Draw the window [start, end) as soon as the player knows its qualities: `urlFor(quality, start,
   * end)` builds the image URL. An open window (no end) is drawn up to the content loaded so far.
   * `this.drawing` is the drawing's promise (null until it starts).
   */
  drawWindow(start, end, urlFor) {
    this.drawing = null;
    this.player.addEventListener(end ? 'levels' : 'levelloaded', () => {
      const until = end ?? this.player.contentEnd() ?? new Date();
      this.drawing = this.show(urlFor(this.player.qualityName(), start, until));
    }, { once: true });
  }

  /** Fetch and show the waveform PNG at `url`; errors are reported with the server's reason. */
  async show(url) {
    this.container.dataset.state = 'loading';
    try {
      const blob = await (await request(url)).blob();
      if (this.image.src.startsWith('blob:')) URL.revokeObjectURL(this.image.src);
      this.image.src = URL.createObjectURL(blob);
      await this.image.decode();
      this.container.dataset.state = 'drawn';
      performance.mark('waveform-drawn');
    } catch (error) {
      this.container.dataset.state = 'failed';
      this.onError(`Waveform unavailable: ${error.message}`);
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
