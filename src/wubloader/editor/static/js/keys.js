// The keyboard map (same keys and amounts as the original editor) and its binding to a player.

/** Seconds moved by each seeking key; Shift+arrows move a minute. */
export const SEEK_SECONDS = {
  j: -10, l: 10, J: -1, L: 1, ArrowLeft: -5, ArrowRight: 5,
};
export const SHIFT_ARROW_SECONDS = 60;
export const FRAME_KEYS = { ',': -1, '<': -1, '.': 1, '>': 1 };
export const SPEED_KEYS = { '=': 'faster', '-': 'slower', '+': 'double', _: 'slowest', Backspace: 'normal' };

/** The action a key press asks for, or null. Pure, so the map is easy to read and to test. */
export function actionFor(event) {
  const { key } = event;
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  if (/^[0-9]$/.test(key)) return { kind: 'percent', percent: Number(key) * 10 };
  if (key === 'k' || key === 'K' || key === ' ') return { kind: 'toggle' };
  if (key === 'm') return { kind: 'mute' };
  if ((key === 'ArrowLeft' || key === 'ArrowRight') && event.shiftKey) {
    return { kind: 'seek', seconds: Math.sign(SEEK_SECONDS[key]) * SHIFT_ARROW_SECONDS };
  }
  if (key in SEEK_SECONDS) return { kind: 'seek', seconds: SEEK_SECONDS[key] };
  if (key in FRAME_KEYS) return { kind: 'frames', frames: FRAME_KEYS[key] };
  if (key in SPEED_KEYS) return { kind: 'speed', op: SPEED_KEYS[key] };
  return null;
}

const TEXT_INPUTS = new Set(['text', 'search', 'url', 'email', 'password', 'number', 'tel', 'datetime-local']);

/** True while the user types somewhere: shortcuts must not steal those keys. */
export function isTyping(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT') return true;
  return target.tagName === 'INPUT' && TEXT_INPUTS.has(target.type);
}

/**
 * Bind the map to `player` on `target` (usually document). `extra` maps further keys (the editor's
 * `[`, `]`, `o`, `p`) to functions. `onUnavailable(message)` is told when a key cannot act.
 */
export function bindKeys(target, player, { extra = {}, onUnavailable = () => {} } = {}) {
  target.addEventListener('keydown', (event) => {
    if (isTyping(event.target)) return;
    // Space/Enter on a focused button already press it.
    if (event.target instanceof HTMLButtonElement && (event.key === ' ' || event.key === 'Enter')) return;
    if (event.key in extra && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      extra[event.key]();
      return;
    }
    const action = actionFor(event);
    if (!action || !player.ready) return;
    event.preventDefault();
    perform(player, action, onUnavailable);
  });
}

function perform(player, action, onUnavailable) {
  switch (action.kind) {
    case 'percent': player.seekTo((player.duration * action.percent) / 100); break;
    case 'toggle': player.togglePlay(); break;
    case 'mute': player.toggleMute(); break;
    case 'seek': player.seekBy(action.seconds); break;
    case 'frames':
      if (!player.stepFrames(action.frames)) onUnavailable('Frame step is unavailable: the frame rate is unknown.');
      break;
    case 'speed': player.changeSpeed(action.op); break;
    default: break;
  }
}

/** Rows for the keyboard help shown on the pages. */
export const KEY_HELP = [
  ['k, K, Space', 'play / pause'],
  ['j / l', 'back / forward 10 s'],
  ['J / L', 'back / forward 1 s'],
  ['← / →', 'back / forward 5 s'],
  ['Shift+← / Shift+→', 'back / forward 60 s'],
  [', or < / . or >', 'one frame back / forward'],
  ['0 … 9', 'jump to 0 % … 90 %'],
  ['= / -', 'next / previous speed'],
  ['+ / _', '2× (max if already ≥ 2×) / slowest'],
  ['Backspace', 'normal speed'],
  ['m', 'mute / unmute'],
];
