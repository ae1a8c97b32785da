// The ranges of an edit (set from the playhead, played from here), the transitions between them
// (each with a preview of just that join), and the clip bar showing them on the timeline.

function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function button(text, label, onClick) {
  const b = el('button', { type: 'button', textContent: text });
  b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}

export const DEFAULT_TRANSITION_SECONDS = 1;

export class Ranges {
  /**
   * `format()` returns the current time format ({format(date), parse(text)}); `onChange()` is called
   * on every edit; `onPreview(index)` previews the join before range `index`.
   */
  constructor(container, clipBar, { player, format, transitions, onChange, onPreview }) {
    Object.assign(this, { container, clipBar, player, format, transitions, onChange, onPreview });
    this.ranges = [];
    this.joins = [];
    this.active = 0;
    this.editable = true;
    player.video.addEventListener('durationchange', () => this.drawClipBar());
    player.addEventListener('levelloaded', () => this.drawClipBar());
  }

  /** Load saved ranges ([[Date, Date]]) and transitions ([null | [type, seconds]]). */
  set(ranges, transitions) {
    this.ranges = ranges.map(([start, end]) => ({ start, end }));
    this.joins = this.ranges.slice(1).map((_, i) => {
      const saved = transitions[i];
      return saved ? { type: saved[0], duration: saved[1] } : { type: '', duration: DEFAULT_TRANSITION_SECONDS };
    });
    // A saved transition the server no longer lists is still shown (and sent back) as it is.
    for (const join of this.joins) {
      if (join.type && !this.transitions.some((t) => t.name === join.type)) this.transitions.push({ name: join.type, description: 'unknown' });
    }
    this.active = 0;
    this.render();
  }

  setEditable(editable) {
    this.editable = editable;
    this.render();
  }

  /** The edit as the API wants it, or throws an Error naming the first bad field. */
  value() {
    this.ranges.forEach((r, i) => {
      if (!r.start || !r.end) throw new Error(`Range ${i + 1} needs a start and an end.`);
      if (r.end <= r.start) throw new Error(`Range ${i + 1} must end after it starts.`);
    });
    this.joins.forEach((j, i) => {
      if (j.type && !(j.duration > 0)) throw new Error(`The transition before range ${i + 2} needs a duration above 0 seconds.`);
    });
    return {
      ranges: this.ranges.map((r) => [r.start, r.end]),
      transitions: this.joins.map((j) => (j.type ? [j.type, j.duration] : null)),
    };
  }

  /** `[` / `]`: set the active range's start / end to the playhead. */
  setFromPlayhead(side) {
    if (!this.editable) return;
    const when = this.player.wallTime();
    if (!when) return;
    this.ranges[this.active][side] = when;
    this.changed();
  }

  /** `o` / `p`: previous / next range; past the last one a new range is added (if editable). */
  move(step) {
    const next = this.active + step;
    if (next < 0) return;
    if (next >= this.ranges.length) {
      if (!this.editable) return;
      this.add();
      return;
    }
    this.active = next;
    this.render();
  }

  add() {
    this.ranges.push({ start: null, end: null });
    if (this.ranges.length > 1) this.joins.push({ type: '', duration: DEFAULT_TRANSITION_SECONDS });
    this.active = this.ranges.length - 1;
    this.changed();
  }

  remove(index) {
    this.ranges.splice(index, 1);
    this.joins.splice(index - 1, 1);
    this.active = Math.min(this.active, this.ranges.length - 1);
    this.changed();
  }

  changed() {
    this.render();
    this.onChange();
  }

  render() {
    const rows = this.ranges.map((range, i) => this.renderRange(range, i));
    const add = button('Add range', 'Add range', () => this.add());
    add.disabled = !this.editable;
    add.id = 'add-range';
    this.container.replaceChildren(el('ol', { className: 'range-list' }, rows), add);
    this.drawClipBar();
  }

  renderRange(range, i) {
    const n = i + 1;
    const item = el('li', { className: 'range' });
    item.dataset.index = i;
    if (i === this.active) item.setAttribute('aria-current', 'true');
    if (i > 0) item.append(this.renderJoin(i));
    const marker = el('span', { className: 'active-mark', textContent: i === this.active ? '▶' : '' });
    marker.setAttribute('aria-hidden', 'true');
    item.append(marker, this.renderEnd(range, i, 'start', `Range ${n} start`), this.renderEnd(range, i, 'end', `Range ${n} end`));
    if (i > 0) {
      const remove = button('Remove', `Remove range ${n}`, () => this.remove(i));
      remove.disabled = !this.editable;
      item.append(remove);
    }
    item.addEventListener('focusin', () => { if (this.active !== i) { this.active = i; this.markActive(); } });
    return item;
  }

  markActive() {
    this.container.querySelectorAll('.range').forEach((item, i) => {
      item.toggleAttribute('aria-current', i === this.active);
      item.querySelector('.active-mark').textContent = i === this.active ? '▶' : '';
    });
  }

  renderEnd(range, i, side, label) {
    const input = el('input', { type: 'text', className: `range-${side}`, value: range[side] ? this.format().format(range[side]) : '' });
    input.disabled = !this.editable;
    input.addEventListener('change', () => {
      const parsed = input.value.trim() ? this.format().parse(input.value) : null;
      if (input.value.trim() && !parsed) {
        input.setAttribute('aria-invalid', 'true');
        return;
      }
      input.removeAttribute('aria-invalid');
      range[side] = parsed;
      this.drawClipBar();
      this.onChange();
    });
    const set = button('Set', `Set ${label.toLowerCase()} to the playhead`, () => { this.active = i; this.setFromPlayhead(side); });
    set.disabled = !this.editable;
    const play = button('Play', `Play from ${label.toLowerCase()}`, () => {
      const t = range[side] && this.player.playerTime(range[side]);
      if (t !== null && t !== undefined) { this.player.seekTo(t); this.player.video.play(); }
    });
    return el('span', { className: 'range-end' }, [el('label', {}, [`${label} `, input]), set, play]);
  }

  renderJoin(i) {
    const join = this.joins[i - 1];
    const select = el('select', { className: 'transition-type' }, [
      new Option('cut', ''),
      ...this.transitions.map((t) => Object.assign(new Option(t.name, t.name), { title: t.description })),
    ]);
    select.value = join.type;
    const seconds = el('input', { type: 'number', className: 'transition-duration', min: 0.1, step: 0.1, value: join.duration });
    seconds.hidden = !join.type;
    select.disabled = seconds.disabled = !this.editable;
    select.addEventListener('change', () => { join.type = select.value; seconds.hidden = !join.type; this.onChange(); });
    seconds.addEventListener('change', () => { join.duration = Number(seconds.value); this.onChange(); });
    const preview = button('Preview', `Preview the join before range ${i + 1}`, () => this.onPreview(i));
    return el('div', { className: 'join' }, [
      el('label', {}, [`Transition before range ${i + 1} `, select]),
      el('label', {}, [' over ', seconds, ' s']), preview,
    ]);
  }

  /** Orange boxes at each complete range's place in the loaded window. */
  drawClipBar() {
    const duration = this.player.duration;
    const boxes = [];
    for (const range of this.ranges) {
      const a = range.start && this.player.playerTime(range.start);
      const b = range.end && this.player.playerTime(range.end);
      if (!duration || a === null || b === null || a === undefined || b === undefined) continue;
      const box = el('div', { className: 'clip' });
      box.style.left = `${(a / duration) * 100}%`;
      box.style.width = `${(Math.max(0, b - a) / duration) * 100}%`;
      boxes.push(box);
    }
    this.clipBar.replaceChildren(...boxes);
  }
}
