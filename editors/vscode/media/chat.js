// The chat view's script: a list of HTML blocks rendered by the extension (transcript.ts, via
// markdown-it with raw HTML disabled), plus the prompt box. It keeps no conversation state of its
// own, so a reload simply asks for a full reset.
(function () {
  const vscode = acquireVsCodeApi();
  const log = document.getElementById('log');
  const prompt = document.getElementById('prompt');
  const send = document.getElementById('send');
  const stop = document.getElementById('stop');
  const addSelection = document.getElementById('add-selection');
  const context = document.getElementById('context');
  const contextLabel = document.getElementById('context-label');
  const contextClear = document.getElementById('context-clear');
  let sending = false;

  const saved = vscode.getState();
  if (saved && typeof saved.draft === 'string') {
    prompt.value = saved.draft;
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  }

  function upsert(entry) {
    let node = document.getElementById(entry.id);
    if (!node) {
      node = document.createElement('div');
      node.id = entry.id;
      node.className = 'slot';
      log.appendChild(node);
    }
    // Keep an expanded tool call expanded while it updates.
    const open = node.querySelector('details[open]') !== null;
    node.innerHTML = entry.html;
    if (open) {
      const details = node.querySelector('details');
      if (details) details.open = true;
    }
  }

  function setBusy(busy) {
    document.body.classList.toggle('busy', busy);
    stop.hidden = !busy;
  }

  function setContext(label) {
    context.hidden = !label;
    contextLabel.textContent = label ? 'Context: ' + label : '';
  }

  function submit() {
    const text = prompt.value;
    if (!text.trim() || sending) return;
    sending = true;
    send.disabled = true;
    vscode.postMessage({ type: 'send', prompt: text });
  }

  window.addEventListener('message', (event) => {
    const message = event.data;
    switch (message.type) {
      case 'reset':
        log.innerHTML = '';
        message.entries.forEach(upsert);
        setBusy(message.busy);
        setContext(message.context);
        document.body.dataset.session = message.title || '';
        log.scrollTop = log.scrollHeight;
        break;
      case 'upsert': {
        const stick = nearBottom();
        message.entries.forEach(upsert);
        setBusy(message.busy);
        if (stick) log.scrollTop = log.scrollHeight;
        break;
      }
      case 'context':
        setContext(message.label);
        break;
      case 'sent':
        sending = false;
        send.disabled = false;
        prompt.value = '';
        setContext(null);
        vscode.setState({ draft: '' });
        break;
      case 'sendFailed':
        sending = false;
        send.disabled = false;
        break;
      case 'focusInput':
        prompt.focus();
        break;
    }
  });

  prompt.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  prompt.addEventListener('input', () => vscode.setState({ draft: prompt.value }));
  send.addEventListener('click', submit);
  stop.addEventListener('click', () => vscode.postMessage({ type: 'stop' }));
  addSelection.addEventListener('click', () => vscode.postMessage({ type: 'addSelection' }));
  contextClear.addEventListener('click', () => vscode.postMessage({ type: 'clearContext' }));
  // A user turn's Restore action (rendered by the extension with the checkpoint id).
  log.addEventListener('click', (event) => {
    const target = event.target;
    const button = target && target.closest ? target.closest('button.restore') : null;
    if (button) vscode.postMessage({ type: 'restore', id: button.dataset.checkpoint });
  });
  vscode.postMessage({ type: 'ready' });
})();
