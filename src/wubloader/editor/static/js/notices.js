// Stacked, dismissable messages at the top of the page: every error is shown with its reason.

function container() {
  let box = document.getElementById('notices');
  if (!box) {
    box = document.createElement('div');
    box.id = 'notices';
    document.body.prepend(box);
  }
  return box;
}

function show(kind, message) {
  const notice = document.createElement('div');
  notice.className = `notice notice-${kind}`;
  notice.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  const text = document.createElement('span');
  text.className = 'notice-text';
  text.textContent = message;
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'notice-close';
  close.textContent = '×';
  close.setAttribute('aria-label', 'Dismiss message');
  close.addEventListener('click', () => notice.remove());
  notice.append(text, close);
  container().append(notice);
  return notice;
}

export function showError(message) {
  return show('error', message instanceof Error ? message.message : String(message));
}

export function showInfo(message) {
  return show('info', message);
}

/** Remove every notice (e.g. before a new attempt, so old errors do not linger as if current). */
export function clearNotices() {
  container().replaceChildren();
}
