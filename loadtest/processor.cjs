// Hooks of the orders load test (artillery 2.0.34 processor, CommonJS).
//
// Every worker thread loads this file. Files are written only when the
// runner (tools/loadtest/) sets LOADTEST_RUN_DIR:
//   orders.log    "<order id>" for every POST /orders answered 202, and
//                 "<order id> <STATUS>" when a read-back saw it final; the
//                 reconciliation step checks every order not seen final
//   arrivals.log  one epoch-millisecond timestamp per virtual user started;
//                 read by the saturation check (was the arrival plan kept?)
// Lines are short single appendFileSync calls (O_APPEND), so concurrent
// workers never interleave within a line.
//
// LOADTEST_STALL_MS=<n> burns n ms of CPU per virtual user: it saturates the
// load generator on purpose, for the test of the saturation check.
//
// LOADTEST_TOKENS_FILE names {customer id: access token}, written by the
// runner before the run and replaced (one rename) when it renews the tokens
// (tools/loadtest/tokens.py). Each virtual user sends its customer's token;
// the file is read again when it changed, checked at most once a second.
// Without it, requests carry no token (a bare --target, the stand-in API).
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const FINAL = new Set(['CONFIRMED', 'REJECTED']);
const RUN_DIR = process.env.LOADTEST_RUN_DIR || '';
const ORDERS_LOG = RUN_DIR ? path.join(RUN_DIR, 'orders.log') : '';
const ARRIVALS_LOG = RUN_DIR ? path.join(RUN_DIR, 'arrivals.log') : '';
const STALL_MS = Number(process.env.LOADTEST_STALL_MS || 0);
const TOKENS_FILE = process.env.LOADTEST_TOKENS_FILE || '';
const tokens = { byCustomer: null, mtimeMs: -1, checkedAt: 0 };

// The customer's current access token, from TOKENS_FILE.
function tokenOf(customerId) {
  const now = Date.now();
  if (tokens.byCustomer === null || now - tokens.checkedAt >= 1000) {
    tokens.checkedAt = now;
    const { mtimeMs } = fs.statSync(TOKENS_FILE);
    if (mtimeMs !== tokens.mtimeMs) {
      tokens.byCustomer = JSON.parse(fs.readFileSync(TOKENS_FILE, 'utf8'));
      tokens.mtimeMs = mtimeMs;
    }
  }
  const token = tokens.byCustomer[customerId];
  if (!token) throw new Error(`no token for customer ${customerId} in ${TOKENS_FILE}`);
  return token;
}

// Rows of data/skus.csv, loaded whole by artillery (payload with loadAll, so
// run-fargate/run-lambda bundle it too): [sku, unit_price] arrays, or objects.
function skuRows(context) {
  const rows = context.vars.skus;
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new Error('payload "skus" (data/skus.csv) is missing or empty');
  }
  return rows;
}

function asItem(row, quantity) {
  const [sku, price] = Array.isArray(row) ? row : [row.sku, row.unit_price];
  // Money travels as a decimal string ("12.50"), as the API documents it.
  return { sku: String(sku), quantity, unit_price: String(price) };
}

function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}

// beforeScenario of every scenario.
function startVuser(context, _events, next) {
  if (context.vars.$environment === 'prod' && process.env.LOADTEST_ALLOW_PROD !== 'yes') {
    return next(new Error('prod load test refused: set LOADTEST_ALLOW_PROD=yes to opt in'));
  }
  if (ARRIVALS_LOG) fs.appendFileSync(ARRIVALS_LOG, `${Date.now()}\n`);
  try {
    context.vars.authorization = TOKENS_FILE ? `Bearer ${tokenOf(context.vars.customer_id)}` : '';
  } catch (error) {
    return next(error);
  }
  if (STALL_MS > 0) {
    const until = Date.now() + STALL_MS;
    while (Date.now() < until) {
      // busy: the event loop is blocked, as in a saturated generator
    }
  }
  return next();
}

// Function step: a fresh order and Idempotency-Key for this virtual user.
// A retry in the same scenario reuses both, as a real client would.
function newOrder(context, _events, next) {
  const rows = skuRows(context);
  const maxLines = Number(context.vars.max_lines);
  const maxQuantity = Number(context.vars.max_quantity);
  if (!(maxLines >= 1 && maxQuantity >= 1)) {
    return next(new Error('config.variables max_lines and max_quantity must be >= 1'));
  }
  const lines = Math.min(1 + Math.floor(Math.random() * maxLines), rows.length);
  const items = [];
  const seen = new Set();
  while (items.length < lines) {
    const item = asItem(pick(rows), 1 + Math.floor(Math.random() * maxQuantity));
    if (seen.has(item.sku)) continue;
    seen.add(item.sku);
    items.push(item);
  }
  context.vars.idempotency_key = crypto.randomUUID();
  context.vars.order_body = {
    customer_id: context.vars.customer_id,
    items,
    currency: context.vars.currency,
  };
  context.vars.order_status = 'PENDING';
  return next();
}

// beforeRequest of POST /orders.
function orderRequest(requestParams, context, _events, next) {
  requestParams.json = context.vars.order_body;
  return next();
}

// afterResponse of POST /orders.
function recordOrder(_requestParams, response, _context, _events, next) {
  if (ORDERS_LOG && response.statusCode === 202) {
    let id;
    try {
      id = JSON.parse(response.body).order_id;
    } catch {
      id = undefined;
    }
    if (typeof id === 'string' && id) fs.appendFileSync(ORDERS_LOG, `${id}\n`);
  }
  return next();
}

// whileTrue of the read-back loop: go on while the order is not final and
// fewer than max_polls reads were made. (With whileTrue artillery ignores the
// loop's count, so the bound lives here.) A final status seen is recorded.
function orderPending(context, next) {
  const status = context.vars.order_status;
  if (FINAL.has(status)) {
    if (ORDERS_LOG && context.vars.order_id) {
      fs.appendFileSync(ORDERS_LOG, `${context.vars.order_id} ${status}\n`);
    }
    return next(false);
  }
  const polls = Number(context.vars.$loopCount || 0);
  return next(polls < Number(context.vars.max_polls || 10));
}

module.exports = { startVuser, newOrder, orderRequest, recordOrder, orderPending };
