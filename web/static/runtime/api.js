// Every request the record pages make goes through request(): the one place that adds the
// session's CSRF token (from <meta name="csrf-token">) to the requests that change something.

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";
}

/**
 * Send a JSON request to the REST API; never throws for an HTTP error status.
 * @returns {Promise<{ok: boolean, status: number, data: any}>} data is the parsed JSON answer (or null)
 */
export async function request(method, url, { body, headers = {}, lang = "zh" } = {}) {
  const init = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", "Accept-Language": lang === "en" ? "en" : "zh-CN", ...headers },
  };
  if (!SAFE_METHODS.has(method.toUpperCase())) {
    init.headers["X-CSRF-Token"] = csrfToken();
  }
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    return { ok: false, status: 0, data: { error: String(error?.message ?? error), issues: [] } };
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { ok: response.ok, status: response.status, data };
}

/** The records URL of a form (and of one record). */
export function recordsUrl(form, id = null) {
  const base = `/api/v1/forms/${encodeURIComponent(form)}/records`;
  return id === null ? base : `${base}/${encodeURIComponent(id)}`;
}
