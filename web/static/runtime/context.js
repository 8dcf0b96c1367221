// The record context the interpreter reads in the editor: the twin of forms.computed.RecordContext
// over the page's current values instead of stored rows.
//
// value(path) and rows(path) follow web/browser_rules.py: the record's own fields, sub-table rows
// and columns, one hop through a relation (the related record is fetched by the form; until it
// is in, reading it throws Pending and the form keeps what it showed), and singleton columns.
// Other paths never reach here: expressions that use them are left to the server.

import { toExpr } from "./values.js";

export const PENDING = Object.freeze({ toString: () => "#PENDING" });

/** Thrown while a related record the expression reads is still loading. */
export class Pending extends Error {}

function known(value) {
  if (value === PENDING) throw new Pending("a related record is loading");
  return value;
}

export class RecordContext {
  /**
   * @param {object} form the RecordForm: spec, fields (Map key -> field spec), values, rowsOf(key),
   *   related(key) -> {values, types} | null (throws Pending), blankFormulas
   */
  constructor(form) {
    this.form = form;
    this.currentUser = form.spec.user;
    this.today = form.spec.today;
    this.now = form.spec.now;
  }

  value(path) {
    if (path.length === 0) return this.form.spec.record_id;
    const [head, ...rest] = path;
    const field = this.form.fields.get(head);
    if (field === undefined) return this.outside(head, rest);
    if (field.type === "subtable") {
      const rows = this.form.rowsOf(head);
      if (rest.length === 0) return rows.map((row) => row.id ?? null);
      const column = field.columns.find((one) => one.key === rest[0]);
      return rows.map((row) => toExpr(column, row[rest[0]] ?? null));
    }
    if (field.type === "relation" && rest.length > 0) {
      const related = this.form.related(head);
      return related === null ? null : toExpr({ type: related.types[rest[0]] }, related.values[rest[0]] ?? null);
    }
    if (this.form.blankFormulas && field.live?.formula) return null; // as the server fills defaults
    return toExpr(field, known(this.form.values[head] ?? null));
  }

  outside(head, rest) {
    const singleton = this.form.spec.singletons[head];
    if (singleton === undefined || rest.length !== 1) return null;
    return toExpr({ type: singleton.types[rest[0]] }, singleton.values[rest[0]] ?? null);
  }

  rows(path) {
    const field = path.length > 0 ? this.form.fields.get(path[0]) : undefined;
    if (field?.type !== "subtable") return [];
    return this.form.rowsOf(path[0]).map((row) => new RowContext(this, field, row));
  }
}

/** One sub-table row: its own columns first, then the record's fields. */
class RowContext {
  constructor(parent, field, row) {
    this.parent = parent;
    this.columns = new Map(field.columns.map((column) => [column.key, column]));
    this.row = row;
    this.currentUser = parent.currentUser;
    this.today = parent.today;
    this.now = parent.now;
  }

  value(path) {
    const column = path.length === 1 ? this.columns.get(path[0]) : undefined;
    return column === undefined ? this.parent.value(path) : toExpr(column, this.row[path[0]] ?? null);
  }

  rows(path) {
    return this.parent.rows(path);
  }
}
