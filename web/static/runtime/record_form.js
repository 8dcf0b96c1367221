// The record editor's runtime: form rules evaluated live, the server as the authority.
//
// Reads the spec web/editor.py embeds (<script type="application/json" id="form-spec">) and, on
// every input: recomputes the formula fields the browser can compute (in dependency order, as
// the server stores them), shows/hides fields by visible_if, marks them required by required_if,
// disables them by readonly_if, fills "=..." defaults of a new record until the user types into
// them, and shows the messages of failing assert rules at their fields. Expressions that read
// what the page cannot know (see web/browser_rules.py) are not in the spec: the server computes
// and checks them on save, and its answer is shown at the field it names.
//
// Saving sends JSON to the REST API through api.js (POST to create; PATCH with If-Match and only
// the changed fields to update) and, on success, goes to the record's page.

import { compile, ExprError } from "../expr/interpreter.js";
import { recordsUrl, request } from "./api.js";
import { PENDING, Pending, RecordContext } from "./context.js";
import { displayValue, isBlank, sameValue, storeResult } from "./values.js";
import { INVALID, loadRelationOptions, readInput, readRows, setDisabled, writeInput } from "./widgets.js";

const TEXT = {
  zh: {
    required: "必填",
    invalid: "格式不正确",
    fix: "请修正标出的问题后再保存。",
    saving: "保存中…",
    failed: "保存失败",
    unreachable: "无法连接服务器，请稍后重试。",
  },
  en: {
    required: "Required",
    invalid: "Invalid value",
    fix: "Please fix the marked problems before saving.",
    saving: "Saving…",
    failed: "Could not save",
    unreachable: "The server could not be reached; try again.",
  },
};
const OPTIONS = ["formula", "visible_if", "required_if", "readonly_if", "default"];
const FIELD_PATH = /^([a-z][a-z0-9_]*)(?:\[(\d+)\](?:\.([a-z][a-z0-9_]*))?)?/;

/** Compile an AST; a bad call (unknown function, wrong arity) leaves the expression to the server. */
function compiled(ast) {
  try {
    return compile(ast);
  } catch (error) {
    if (error instanceof ExprError) return null;
    throw error;
  }
}

class RecordForm {
  constructor(element, spec) {
    this.element = element;
    this.spec = spec;
    this.text = TEXT[spec.lang] ?? TEXT.zh;
    this.isNew = spec.record_id === null;
    this.fields = new Map(spec.fields.map((field) => [field.key, field]));
    this.runs = new Map(spec.fields.map((field) => [field.key, this.compileOptions(field)]));
    this.rules = spec.rules.map((rule) => ({ ...rule, run: rule.assert ? compiled(rule.assert) : null }));
    this.values = { ...spec.values };
    this.initial = structuredClone(spec.values);
    this.related_ = new Map(); // "form:id" -> {values} or PENDING
    this.states = new Map(); // key -> {visible, required, readonly}
    this.autoDefaults = new Set(this.isNew ? spec.fields.filter((f) => this.runs.get(f.key).default).map((f) => f.key) : []);
    this.blankFormulas = false;
    this.submitted = false;
    this.context = new RecordContext(this);
  }

  compileOptions(field) {
    const runs = {};
    for (const option of OPTIONS) if (field.live?.[option]) runs[option] = compiled(field.live[option]);
    return runs;
  }

  container(key) {
    return document.getElementById(`field-${key}`);
  }

  input(key) {
    return document.getElementById(`in-${key}`);
  }

  // -- the context's data ------------------------------------------------------------------------
  rowsOf(key) {
    const table = this.input(key);
    const field = this.fields.get(key);
    if (table?.dataset.editable === "true") return readRows(table, field.columns);
    return this.values[key] ?? [];
  }

  /** The related record's values for a relation path, loading it on first use (throws Pending). */
  related(key) {
    const id = this.values[key];
    if (id === null || id === undefined || id === INVALID) return null;
    const relation = this.spec.relations[key];
    const cacheKey = `${relation.form}:${id}`;
    const found = this.related_.get(cacheKey);
    if (found === PENDING) throw new Pending(cacheKey);
    if (found !== undefined) return { types: relation.types, values: found };
    this.related_.set(cacheKey, PENDING);
    this.loading = (this.loading ?? Promise.resolve()).then(() => this.fetchRelated(cacheKey, relation.form, id));
    throw new Pending(cacheKey);
  }

  async fetchRelated(cacheKey, form, id) {
    const answer = await request("GET", recordsUrl(form, id), { lang: this.spec.lang });
    this.related_.set(cacheKey, answer.ok ? answer.data.record : {});
    this.refresh();
  }

  // -- evaluation ---------------------------------------------------------------------------------
  evaluate(run) {
    try {
      return { value: run(this.context) };
    } catch (error) {
      if (error instanceof Pending) return { pending: true };
      if (error instanceof ExprError) return { value: null }; // a breached limit: blank, as the server stores it
      throw error;
    }
  }

  readInputs() {
    for (const field of this.fields.values()) {
      const element = this.input(field.key);
      if (!field.editable || element === null || field.widget === "subtable") continue;
      const value = readInput(field.widget, element);
      if (value !== undefined) this.values[field.key] = value;
    }
    for (const field of this.fields.values()) {
      if (field.widget === "subtable" && field.editable) this.values[field.key] = this.rowsOf(field.key);
    }
  }

  fillDefaults() {
    this.blankFormulas = true;
    try {
      for (const key of this.autoDefaults) {
        const result = this.evaluate(this.runs.get(key).default);
        if (result.pending) continue;
        const value = storeResult(this.fields.get(key), result.value);
        this.values[key] = value;
        const element = this.input(key);
        if (element !== null) writeInput(this.fields.get(key).widget, element, value);
      }
    } finally {
      this.blankFormulas = false;
    }
  }

  computeFormulas() {
    for (const key of this.spec.formula_order) {
      const run = this.runs.get(key).formula;
      if (!run) continue; // left to the server: the stored value stays
      const field = this.fields.get(key);
      const result = this.evaluate(run);
      this.values[key] = result.pending ? PENDING : storeResult(field, result.value);
      const output = this.input(key);
      if (output === null) continue;
      output.textContent = result.pending ? "…" : displayValue(field, this.values[key], this.spec.lang);
      output.dataset.pending = result.pending ? "true" : "false";
    }
  }

  /** visible_if / required_if / readonly_if of every field (a pending result keeps the last state). */
  applyFieldRules() {
    for (const field of this.fields.values()) {
      const container = this.container(field.key);
      if (container === null) continue;
      const last = this.states.get(field.key) ?? { visible: true, requiredIf: false, readonly: false };
      const outcome = (option) => {
        const run = this.runs.get(field.key)[option];
        if (!run) return undefined;
        const result = this.evaluate(run);
        return result.pending ? "pending" : result.value;
      };
      const visible = outcome("visible_if");
      const requiredIf = outcome("required_if");
      const readonly = outcome("readonly_if");
      const state = {
        visible: visible === "pending" ? last.visible : visible !== false,
        requiredIf: requiredIf === "pending" ? last.requiredIf : requiredIf === true,
        readonly: readonly === "pending" ? last.readonly : readonly === true,
      };
      state.required = field.required || (state.requiredIf && state.visible);
      this.states.set(field.key, state);
      container.hidden = !state.visible;
      container.querySelector(".req").hidden = !state.required;
      for (const control of container.querySelectorAll("input, select, textarea")) {
        if (control.closest("table.subtable") || control.classList.contains("relation-search")) continue;
        control.required = state.required;
        control.setAttribute("aria-required", String(state.required));
      }
      if (field.editable) setDisabled(container, state.readonly);
    }
  }

  /** The assert rules that fail, shown at their field (or above the form when they name none). */
  applyAsserts() {
    const failing = new Map();
    for (const rule of this.rules) {
      if (!rule.run) continue;
      const result = this.evaluate(rule.run);
      if (result.pending || result.value !== false) continue;
      const key = rule.field && this.container(rule.field) && this.states.get(rule.field)?.visible ? rule.field : "";
      failing.set(key, [...(failing.get(key) ?? []), rule.message]);
    }
    const lists = [document.getElementById("form-rules"), ...this.element.querySelectorAll(".field > .msg-rules")];
    for (const list of lists) {
      const key = list.id === "form-rules" ? "" : list.parentElement.dataset.key;
      const messages = failing.get(key) ?? [];
      list.replaceChildren(...messages.map((message) => Object.assign(document.createElement("li"), { textContent: message })));
      list.hidden = messages.length === 0;
    }
    return [...failing.values()].flat();
  }

  /** Blank required fields and unreadable inputs; shown once the user has tried to save. */
  applyRequired() {
    const problems = [];
    for (const field of this.fields.values()) {
      const container = this.container(field.key);
      const state = this.states.get(field.key);
      if (container === null || !state?.visible || !field.editable) continue;
      const value = this.values[field.key];
      // A sub-table may be empty; a default the server computes fills the field on create.
      const filledLater = field.widget === "subtable" || (this.isNew && field.server?.includes("default"));
      const blank = state.required && isBlank(value) && !filledLater;
      const message = value === INVALID ? this.text.invalid : blank ? this.text.required : "";
      const shown = container.querySelector(".msg-required");
      shown.textContent = message;
      shown.hidden = !(this.submitted && message);
      container.classList.toggle("invalid", Boolean(this.submitted && message));
      if (message) problems.push(field.key);
    }
    return problems;
  }

  refresh() {
    this.readInputs();
    if (this.autoDefaults.size > 0) this.fillDefaults();
    this.computeFormulas();
    this.applyFieldRules();
    const failing = this.applyAsserts();
    const problems = this.applyRequired();
    return { failing, problems };
  }

  // -- saving -----------------------------------------------------------------------------------
  /** The fields to send: all filled ones on create, the changed ones on update (never read-only ones). */
  payload() {
    const body = {};
    for (const field of this.fields.values()) {
      if (!field.editable || this.states.get(field.key)?.readonly) continue;
      if (this.container(field.key) === null && !this.isNew) continue;
      let value = this.values[field.key];
      if (value === undefined || (this.autoDefaults.has(field.key) && value === null)) continue;
      if (field.widget === "subtable") value = value.map(({ id, ...row }) => row);
      if (this.isNew ? isBlank(value) : sameValue(field, value, this.stripped(field))) continue;
      body[field.key] = value;
    }
    return body;
  }

  stripped(field) {
    const value = this.initial[field.key] ?? null;
    return field.widget === "subtable" && Array.isArray(value) ? value.map(({ id, ...row }) => row) : value;
  }

  async submit() {
    this.submitted = true;
    this.clearServerMessages();
    const { failing, problems } = this.refresh();
    if (failing.length > 0 || problems.length > 0) {
      this.showFormMessage(this.text.fix);
      this.element.querySelector(".invalid input, .invalid select, .invalid textarea")?.focus();
      return;
    }
    this.showFormMessage("");
    const status = document.getElementById("save-status");
    const button = document.getElementById("save");
    button.disabled = true;
    status.textContent = this.text.saving;
    const headers = this.isNew ? {} : { "If-Match": `"${this.spec.version}"` };
    const url = recordsUrl(this.spec.form, this.isNew ? null : this.spec.record_id);
    const answer = await request(this.isNew ? "POST" : "PATCH", url, { body: this.payload(), headers, lang: this.spec.lang });
    status.textContent = "";
    if (answer.ok) {
      const id = answer.data.record.id;
      window.location.assign(`/forms/${encodeURIComponent(this.spec.form)}/${id}?lang=${this.spec.lang}`);
      return;
    }
    button.disabled = false;
    this.showServerErrors(answer);
  }

  showFormMessage(text, extra = []) {
    const box = document.getElementById("form-messages");
    const lines = [...new Set([text, ...extra].filter(Boolean))];
    box.replaceChildren(...lines.map((line) => Object.assign(document.createElement("p"), { textContent: line })));
    box.hidden = lines.length === 0;
  }

  clearServerMessages() {
    for (const message of this.element.querySelectorAll(".msg-server")) {
      message.textContent = "";
      message.hidden = true;
    }
  }

  /** Each issue at the field (or sub-table cell) it names; the others above the form. */
  showServerErrors(answer) {
    const data = answer.data ?? {};
    const unplaced = [];
    for (const issue of data.issues ?? []) {
      const target = this.issueTarget(issue.field ?? "");
      if (target === null) {
        const label = this.fields.get(FIELD_PATH.exec(issue.field ?? "")?.[1])?.label;
        unplaced.push(label ? `${label}：${issue.message}` : issue.message);
        continue;
      }
      target.textContent = target.textContent ? `${target.textContent}；${issue.message}` : issue.message;
      target.hidden = false;
    }
    const summary = answer.status === 0 ? this.text.unreachable : data.error ?? `${this.text.failed} (${answer.status})`;
    this.showFormMessage(summary, unplaced);
  }

  issueTarget(path) {
    const match = FIELD_PATH.exec(path);
    const container = match ? this.container(match[1]) : null;
    if (container === null || container.hidden) return null;
    if (match[2] !== undefined && match[3] !== undefined) {
      const row = this.input(match[1])?.tBodies?.[0]?.rows[Number(match[2])];
      const cell = row?.querySelector(`td[data-col="${match[3]}"] .msg-server`);
      if (cell) return cell;
    }
    return container.querySelector(":scope > .msg-server");
  }

  // -- wiring -----------------------------------------------------------------------------------
  bind() {
    this.element.addEventListener("input", (event) => this.changed(event));
    this.element.addEventListener("change", (event) => this.changed(event));
    this.element.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.element.addEventListener("click", (event) => this.clicked(event));
    for (const box of this.element.querySelectorAll('input[type="checkbox"][data-blank="true"]')) box.indeterminate = true;
    const loads = [];
    for (const field of this.fields.values()) {
      if (!field.editable || !["relation", "multi_relation"].includes(field.widget)) continue;
      const select = this.input(field.key);
      if (select === null) continue;
      const titleKey = this.spec.title_keys[field.key];
      const load = (q) => loadRelationOptions(select, titleKey, { q, lang: this.spec.lang });
      loads.push(load(""));
      let timer = null;
      document.getElementById(`search-${field.key}`)?.addEventListener("input", (event) => {
        clearTimeout(timer);
        timer = setTimeout(() => load(event.target.value), 250);
      });
    }
    return loads;
  }

  changed(event) {
    const target = event.target;
    if (target.classList.contains("relation-search")) return;
    if (target.type === "checkbox") target.dataset.blank = "false";
    const container = target.closest(".field");
    if (container !== null) {
      this.autoDefaults.delete(container.dataset.key); // the user's value wins over the default
      const message = container.querySelector(":scope > .msg-server");
      if (message) message.hidden = true;
    }
    this.refresh();
  }

  clicked(event) {
    const button = event.target.closest("button");
    if (button?.classList.contains("add-row")) {
      const template = document.getElementById(`row-${button.dataset.for}`);
      this.input(button.dataset.for).tBodies[0].append(template.content.cloneNode(true));
      this.refresh();
    } else if (button?.classList.contains("remove-row")) {
      button.closest("tr").remove();
      this.refresh();
    }
  }
}

async function start() {
  const element = document.getElementById("record-form");
  const spec = JSON.parse(document.getElementById("form-spec").textContent);
  const form = new RecordForm(element, spec);
  const loads = form.bind();
  form.refresh();
  await Promise.all(loads);
  await form.loading;
  element.dataset.ready = "true";
  window.tesseraForm = form; // for debugging in the console
}

start();
