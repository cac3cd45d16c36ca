// The public JSON API, as any third-party front end would use it: the session cookie (set by
// `POST /api/auth/login` with `cookie: true`) plus the session's CSRF token on every
// state-changing request.

let csrfToken = null;
let onUnauthorized = () => {};

/** An API refusal: the problem's status, stable code and plain-language detail. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || 'HTTP_' + status;
    this.field = problem.field;
    this.retryAfter = problem.retry_after;
    this.maxBytes = problem.max_bytes;
  }
}

export function setCsrfToken(token) {
  csrfToken = token;
}

/** Called when the session is gone (401): the app shows the login screen. */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return { detail: response.statusText };
  }
}

/** Sends a request; resolves with the parsed JSON body (or null for 204), rejects with ApiError. */
export async function api(method, path, body, options = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  Object.assign(headers, options.headers || {});
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, { code: 'NETWORK', detail: 'The server cannot be reached. Check your connection and try again.' });
  }
  if (response.status === 204) return null;
  if (!response.ok) {
    const problem = await problemOf(response);
    const error = new ApiError(response.status, problem);
    if (response.status === 401 && !options.quiet) onUnauthorized(error);
    throw error;
  }
  const type = response.headers.get('content-type') || '';
  return type.includes('json') ? response.json() : null;
}

/** Uploads a multipart form with progress (fetch cannot report upload progress). */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('Accept', 'application/json');
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText || '{}');
      } catch {
        body = { detail: xhr.statusText };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        const error = new ApiError(xhr.status, body);
        if (xhr.status === 401) onUnauthorized(error);
        reject(error);
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, { code: 'NETWORK', detail: 'The upload was interrupted. Check your connection and try again.' })));
    xhr.send(form);
  });
}

/** A fresh idempotency key for one message: a retry of the same send reuses it. */
export function newClientId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return 'web-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A refusal in words a person understands, for the problem codes a form can meet. */
export function explain(error) {
  const byCode = {
    FILE_TOO_LARGE: () => `The file is too large${error.maxBytes ? ` (at most ${Math.round(error.maxBytes / 1048576)} MB)` : ''}.`,
    UNSUPPORTED_FILE_TYPE: () => 'This type of file cannot be sent. Allowed: JPEG, PNG, GIF, WebP, PDF, DOC, DOCX, TXT and CSV.',
    EMPTY_FILE: () => 'The file is empty.',
    IMAGE_DIMENSIONS_TOO_LARGE: () => 'The image has too many pixels (at most 40 megapixels).',
    UNREADABLE_IMAGE: () => 'The image could not be read.',
    RATE_LIMITED: () => `You are sending too fast. Try again in ${error.retryAfter || 1} s.`,
    EDIT_WINDOW_EXPIRED: () => 'Messages can only be edited for 15 minutes after sending.',
    RECIPIENT_UNAVAILABLE: () => 'You cannot send messages to this person.',
    RECIPIENT_BLOCKED: () => 'You have blocked this person. Unblock them to send messages.',
    PATIENT_CANNOT_INITIATE: () => 'Patients can reply to their clinician but cannot start a conversation.',
    INVALID_CREDENTIALS: () => 'Incorrect username or password.',
    ACCOUNT_EXISTS: () => 'An account with this username or email already exists.',
    ATTACHMENT_SCAN_PENDING: () => 'The file is still being checked for viruses. Try again shortly.',
    ATTACHMENT_INFECTED: () => 'The file was found to contain malware and cannot be downloaded.',
  };
  const make = byCode[error.code];
  return make ? make() : error.message;
}
