// The player's control bar: play/pause, position, times (video and UTC), speed, quality, mute.
import { SPEEDS } from './player.js';
import { formatUtc, formatVideoTime } from './time.js';

function element(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** Build the control bar inside `container`; it follows the player's state from then on. */
export function buildControls(container, player) {
  const video = player.video;
  const play = element('button', { type: 'button', className: 'ctl-play', textContent: 'Play' });
  const mute = element('button', { type: 'button', className: 'ctl-mute', textContent: 'Mute' });
  const position = element('input', { type: 'range', min: 0, max: 1, step: 'any', value: 0, className: 'ctl-position' });
  position.setAttribute('aria-label', 'Position in the video');
  const clock = element('output', { className: 'ctl-time' });
  const wall = element('output', { className: 'ctl-wall' });
  const speed = element('select', { className: 'ctl-speed' },
    SPEEDS.map((s) => element('option', { value: s, textContent: `${s}×`, selected: s === 1 })));
  const quality = element('select', { className: 'ctl-quality' });
  container.replaceChildren(
    play, position, clock, wall,
    element('label', {}, ['Speed ', speed]),
    element('label', {}, ['Quality ', quality]),
    mute,
  );
  play.addEventListener('click', () => player.togglePlay());
  mute.addEventListener('click', () => player.toggleMute());
  position.addEventListener('input', () => player.seekTo(Number(position.value)));
  speed.addEventListener('change', () => player.setSpeed(Number(speed.value)));
  quality.addEventListener('change', () => { player.level = Number(quality.value); });
  video.addEventListener('click', () => player.togglePlay());

  const refresh = () => {
    position.max = player.duration || 1;
    position.value = player.time;
    clock.value = `${formatVideoTime(player.time)} / ${formatVideoTime(player.duration)}`;
    wall.value = `UTC ${formatUtc(player.wallTime())}`;
    play.textContent = video.paused ? 'Play' : 'Pause';
    mute.textContent = video.muted ? 'Unmute' : 'Mute';
    speed.value = String(video.playbackRate);
  };
  for (const name of ['timeupdate', 'seeked', 'seeking', 'play', 'pause', 'volumechange', 'ratechange', 'durationchange']) {
    video.addEventListener(name, refresh);
  }
  player.addEventListener('levelloaded', refresh);
  player.addEventListener('levels', () => {
    quality.replaceChildren(
      element('option', { value: -1, textContent: 'auto' }),
      ...player.levels.map((name, i) => element('option', { value: i, textContent: name })),
    );
  });
  refresh();
}
