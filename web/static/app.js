// Sijill's pages work without this script; it adds drag and drop, several
// files at once with a progress bar each, and size/type checks before sending.
// No inline script or on* attributes anywhere: the Content-Security-Policy
// forbids them, so every behaviour is bound here from data- attributes.
(function () {
  'use strict';

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute('content') : '';
  // What the server stores (archive.sniff): scans, PDFs and letters typed in
  // a word processor.
  var okTypes = /^(image\/(png|jpeg|tiff|webp)|application\/pdf|application\/vnd\.openxmlformats-officedocument\.wordprocessingml\.document|application\/vnd\.oasis\.opendocument\.text)$/;
  var okNames = /\.(pdf|png|jpe?g|tiff?|webp|docx|odt)$/i;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }

  function size(n) {
    // Isolated left to right, so "2 KB" stays "2 KB" in an Arabic line.
    if (n >= 1048576) { return '\u2066' + (n / 1048576).toFixed(1) + ' MB\u2069'; }
    return '\u2066' + Math.max(1, Math.round(n / 1024)) + ' KB\u2069';
  }

  // An upload box: a drop zone, a file picker (the phone's camera is one of
  // its choices) and one row with a progress bar per file.
  function Upload(box) {
    this.box = box;
    this.msg = box.dataset;
    this.max = parseInt(box.dataset.max, 10) || 0;
    this.url = box.dataset.url || '';
    this.list = box.querySelector('[data-list]');
    this.input = box.querySelector('[data-files]');
    this.items = [];
    var self = this;
    var zone = box.querySelector('[data-dropzone]');
    this.input.addEventListener('change', function () {
      self.add(self.input.files);
      // The files now live in the list; the picker may choose more.
      self.input.value = '';
    });
    ['dragenter', 'dragover'].forEach(function (t) {
      zone.addEventListener(t, function (e) {
        e.preventDefault();
        zone.classList.add('dragging');
      });
    });
    ['dragleave', 'drop'].forEach(function (t) {
      zone.addEventListener(t, function (e) {
        e.preventDefault();
        zone.classList.remove('dragging');
      });
    });
    zone.addEventListener('drop', function (e) {
      if (e.dataTransfer && e.dataTransfer.files) { self.add(e.dataTransfer.files); }
    });
  }

  Upload.prototype.add = function (files) {
    var self = this;
    Array.prototype.forEach.call(files, function (f) {
      var it = { file: f, state: 'queued' };
      var row = el('li', 'upload-item');
      var head = el('div', 'upload-head');
      head.appendChild(el('span', 'upload-name', f.name));
      head.appendChild(el('span', 'muted', size(f.size)));
      it.status = el('span', 'upload-status', self.msg.msgWaiting);
      head.appendChild(it.status);
      row.appendChild(head);
      it.bar = el('progress', 'upload-bar');
      it.bar.max = 100;
      it.bar.value = 0;
      it.bar.setAttribute('aria-label', f.name);
      row.appendChild(it.bar);
      it.row = row;
      if (self.max && f.size > self.max) {
        self.fail(it, self.msg.msgTooLarge);
      } else if (!okTypes.test(f.type) && !okNames.test(f.name)) {
        self.fail(it, self.msg.msgType);
      } else if (!self.url) {
        // On the new-entry form the files wait for the entry to exist.
        var rm = el('button', 'btn btn-small btn-quiet', self.msg.msgRemove);
        rm.type = 'button';
        rm.addEventListener('click', function () {
          self.items.splice(self.items.indexOf(it), 1);
          row.remove();
        });
        head.appendChild(rm);
      }
      self.list.appendChild(row);
      self.items.push(it);
    });
    if (this.url) { this.uploadAll(this.url).then(function (ok) { if (ok) { window.location.reload(); } }); }
  };

  Upload.prototype.fail = function (it, text) {
    it.state = 'error';
    it.status.textContent = text;
    it.row.classList.add('error');
    it.bar.hidden = true;
  };

  Upload.prototype.queued = function () {
    return this.items.filter(function (it) { return it.state === 'queued'; });
  };

  // uploadAll sends the queued files one request each, one after another, and
  // resolves to true when every one of them arrived.
  Upload.prototype.uploadAll = function (url) {
    var self = this;
    var todo = this.queued();
    var allOK = todo.length > 0;
    return todo.reduce(function (p, it) {
      return p.then(function () {
        return self.send(url, it).then(function (ok) { allOK = allOK && ok; });
      });
    }, Promise.resolve()).then(function () { return allOK; });
  };

  Upload.prototype.send = function (url, it) {
    var self = this;
    it.state = 'sending';
    it.status.textContent = this.msg.msgUploading;
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      var fd = new FormData();
      fd.append('file', it.file, it.file.name);
      xhr.open('POST', url);
      xhr.setRequestHeader('X-CSRF-Token', csrf);
      xhr.upload.addEventListener('progress', function (e) {
        if (e.lengthComputable) { it.bar.value = Math.round(e.loaded * 100 / e.total); }
      });
      xhr.addEventListener('load', function () {
        if (xhr.status === 201) {
          it.state = 'done';
          it.bar.value = 100;
          it.status.textContent = self.msg.msgDone;
          it.row.classList.add('done');
          resolve(true);
          return;
        }
        self.fail(it, xhr.status === 413 ? self.msg.msgTooLarge
          : xhr.status === 415 ? self.msg.msgType : self.msg.msgFailed);
        resolve(false);
      });
      xhr.addEventListener('error', function () {
        self.fail(it, self.msg.msgFailed);
        resolve(false);
      });
      xhr.send(fd);
    });
  };

  var uploads = [];
  document.querySelectorAll('[data-upload]').forEach(function (box) {
    uploads.push(new Upload(box));
  });

  // The new incoming letter: with files chosen, the form and its files go up
  // as one request (one registration is one version of the entry), each file
  // with its own progress bar; the server checks the fields before it reads
  // any file and answers JSON, so a refused form keeps its files here and
  // shows each message beside its field. Without files the form is posted as
  // usual and validated by the server page.
  document.querySelectorAll('form[data-create]').forEach(function (form) {
    var up = null;
    uploads.forEach(function (u) { if (form.contains(u.box)) { up = u; } });
    if (!up) { return; }
    var banner = el('p', 'alert alert-info');
    banner.setAttribute('role', 'status');
    banner.hidden = true;
    form.insertBefore(banner, form.firstChild);
    form.addEventListener('submit', function (e) {
      var items = up.queued();
      if (items.length === 0) { return; }
      e.preventDefault();
      var button = form.querySelector('button[type="submit"]');
      var fd = new FormData(form);
      fd.delete('file');
      items.forEach(function (it) { fd.append('file', it.file, it.file.name); });
      // The server's banner of an earlier refusal gives way to this one.
      var earlier = document.getElementById('form-errors');
      if (earlier) { earlier.hidden = true; }
      form.querySelectorAll('.field-error').forEach(function (p) { p.textContent = ''; });
      form.querySelectorAll('[aria-invalid]').forEach(function (f) { f.removeAttribute('aria-invalid'); });
      form.querySelectorAll('.has-error').forEach(function (f) { f.classList.remove('has-error'); });
      banner.className = 'alert alert-info';
      banner.textContent = up.msg.msgCreating;
      banner.hidden = false;
      button.disabled = true;
      items.forEach(function (it) {
        it.state = 'sending';
        it.status.textContent = up.msg.msgUploading;
        it.row.classList.remove('error');
        it.bar.hidden = false;
        it.bar.value = 0;
      });
      var total = items.reduce(function (n, it) { return n + it.file.size; }, 0) || 1;
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.setRequestHeader('X-CSRF-Token', csrf);
      xhr.upload.addEventListener('progress', function (ev) {
        if (!ev.lengthComputable) { return; }
        // The files go after the fields, one after another: each bar fills
        // with its share of the bytes sent.
        var sent = ev.loaded / ev.total * total;
        items.forEach(function (it) {
          var share = Math.max(0, Math.min(it.file.size, sent));
          sent -= it.file.size;
          it.bar.value = it.file.size ? Math.round(share * 100 / it.file.size) : 100;
        });
      });
      var failed = function (message) {
        button.disabled = false;
        items.forEach(function (it) { up.fail(it, message); it.state = 'queued'; });
        banner.className = 'alert alert-error';
        banner.textContent = message;
      };
      xhr.addEventListener('load', function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
        if (xhr.status === 201 && body.id) {
          items.forEach(function (it) { it.state = 'done'; it.bar.value = 100; it.status.textContent = up.msg.msgDone; });
          window.location.assign(body.next || '/records/' + encodeURIComponent(body.id) + '?created=1');
          return;
        }
        if (xhr.status === 409 && body.code === 'duplicate' && body.duplicate) {
          // The letter seems registered already: its entry is shown, and
          // the next press registers this one all the same.
          button.disabled = false;
          items.forEach(function (it) { it.status.textContent = up.msg.msgWaiting; it.bar.value = 0; it.state = 'queued'; });
          var confirm = form.querySelector('input[name="confirm_duplicate"]') || el('input');
          confirm.type = 'hidden';
          confirm.name = 'confirm_duplicate';
          confirm.value = '1';
          form.appendChild(confirm);
          banner.className = 'alert alert-warn duplicate';
          banner.id = 'duplicate';
          banner.textContent = up.msg.msgDuplicate + ' ';
          var link = el('a', '', body.duplicate.number + '/' + body.duplicate.year + ' ' + body.duplicate.subject);
          link.href = '/records/' + encodeURIComponent(body.duplicate.id);
          link.target = '_blank';
          link.dir = 'auto';
          banner.appendChild(link);
          banner.appendChild(el('span', '', ' — ' + up.msg.msgDuplicateAsk));
          banner.setAttribute('role', 'alert');
          return;
        }
        var fields = body.fields || [];
        if (fields.length === 0) {
          failed(xhr.status === 413 ? up.msg.msgTooLarge : xhr.status === 415 ? up.msg.msgType : up.msg.msgFailed);
          return;
        }
        button.disabled = false;
        items.forEach(function (it) { it.status.textContent = up.msg.msgWaiting; it.bar.value = 0; it.state = 'queued'; });
        banner.className = 'alert alert-error';
        banner.textContent = up.msg.msgErrors;
        var first = null;
        fields.forEach(function (fe) {
          var p = document.getElementById('err-' + fe.field);
          var input = document.getElementById('f-' + fe.field);
          if (p && !p.textContent) { p.textContent = fe.message; }
          if (input) {
            input.setAttribute('aria-invalid', 'true');
            input.closest('.field').classList.add('has-error');
            first = first || input;
          }
        });
        if (first) { first.focus(); }
      });
      xhr.addEventListener('error', function () { failed(up.msg.msgFailed); });
      xhr.send(fd);
    });
  });

  // The import form: the CSV and the scans it names can be large, so they are
  // sent with a progress bar; the server then answers with the page that
  // follows the import (it reloads itself until the report is ready). A
  // refused form comes back as a whole page and replaces this one.
  document.querySelectorAll('form[data-import-form]').forEach(function (form) {
    var status = form.querySelector('[data-upload-status]');
    var bar = status.querySelector('progress');
    var label = status.querySelector('[role="status"]');
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var button = form.querySelector('button[type="submit"]');
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.upload.addEventListener('progress', function (ev) {
        if (ev.lengthComputable) { bar.value = Math.round(ev.loaded * 100 / ev.total); }
      });
      xhr.addEventListener('load', function () {
        if (xhr.status < 400) {
          window.location.assign(xhr.responseURL);
          return;
        }
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener('error', function () {
        button.disabled = false;
        label.textContent = form.dataset.failed;
      });
      button.disabled = true;
      status.hidden = false;
      xhr.send(new FormData(form));
    });
  });

  // A record whose files are still being read (OCR) reloads itself when the
  // last one is done, so the secretary sees "N characters read" without
  // pressing anything. It asks every few seconds, less often as time goes
  // on, and stops when the page is hidden or after half an hour.
  var watch = document.querySelector('[data-text-watch]');
  if (watch && window.fetch) {
    var delay = 3000;
    var until = Date.now() + 30 * 60 * 1000;
    var poll = function () {
      if (Date.now() > until) { return; }
      if (document.hidden) { window.setTimeout(poll, delay); return; }
      fetch(watch.dataset.textWatch, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (rec) {
          var pending = !rec || (rec.attachments || []).some(function (a) {
            return a.text && a.text.status === 'pending';
          });
          if (rec && !pending) { window.location.reload(); return; }
          delay = Math.min(delay * 1.5, 20000);
          window.setTimeout(poll, delay);
        }, function () { window.setTimeout(poll, delay); });
    };
    window.setTimeout(poll, delay);
  }

  // The scan inbox looks again while texts are being read, and shows the
  // page anew when one more is read, unless the secretary is in the middle
  // of a step (a field in use, a step's form open).
  var inbox = document.querySelector('[data-inbox-watch]');
  if (inbox && window.fetch) {
    var waiting = parseInt(inbox.dataset.inboxWatch, 10);
    var every = 3000;
    var busy = function () {
      var a = document.activeElement;
      return (a && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)) ||
        document.querySelector('details.inbox-step[open]') !== null ||
        document.querySelector('[data-upload] progress:not([hidden])') !== null && uploads.some(function (u) {
          return u.items.some(function (it) { return it.state === 'sending' || it.state === 'queued'; });
        });
    };
    var look = function () {
      if (document.hidden || busy()) { window.setTimeout(look, every); return; }
      fetch('/api/v1/inbox', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (res) {
          var now = res ? (res.items || []).filter(function (it) { return it.text && it.text.status === 'pending'; }).length : waiting;
          if (now < waiting && !busy()) { window.location.reload(); return; }
          every = Math.min(every * 1.3, 15000);
          window.setTimeout(look, every);
        }, function () { window.setTimeout(look, every); });
    };
    window.setTimeout(look, every);
  }

  // A step that cannot be undone asks first.
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (e) {
      if (!window.confirm(form.dataset.confirm)) { e.preventDefault(); }
    });
  });

  // On a phone the search filters fold away, so the results start on the
  // first screen; they stay open when one of them is set.
  var filters = document.querySelector('details[data-filters]');
  if (filters && !filters.hasAttribute('data-active') && window.matchMedia &&
      window.matchMedia('(max-width: 760px)').matches) {
    filters.open = false;
  }

  // After a refused form, put the cursor in the first field to correct.
  var bad = document.querySelector('.has-error input, .has-error textarea, .has-error select');
  if (bad) { bad.focus(); }
}());
