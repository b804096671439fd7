// The status page in headless Chromium, run by statuspage.sh. Checks, in a
// context with JavaScript on:
//  - the answer to / carries the Content-Security-Policy (default-src
//    'self') and the page loads /status.js, which refreshes the table from
//    /status (body[data-refreshes] counts the refreshes);
//  - the numbers move without a reload: records appended to the input show
//    up as a larger "Records" count of `flowing`, its "Records/s" leaves
//    0.0, and a bad line shows as a dead letter;
//  - the failing pipeline `doomed` shows state "failed" and its last error
//    with the markup as text: the cell holds no element, the page no <img>
//    or extra <script>, and no dialog opens;
// and in a second context with JavaScript off:
//  - the server-rendered table has both rows with the same numbers, the
//    error as text, and the <noscript> meta refresh; nothing refreshed it.
// SCREENSHOT=FILE: also feeds a minute of varying input and saves the page.
"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const url = process.env.STATUS_URL;
const inputDir = process.env.INPUT_DIR;
const screenshot = process.env.SCREENSHOT || "";
// Part of a file name, so no "/" (a </script> would be a directory): an
// <img> whose handler would open a dialog, an <i> and quotes.
const MARKUP = "<img src=x onerror=alert(1)><i>\"'&";
// A bound that only stops a hang; the events decide.
const WAIT_MS = 60000;

let fileNo = 0;
let lineNo = 0;
function feed(n, bad) {
  const lines = [];
  for (let i = 0; i < n; i++) {
    lineNo++;
    lines.push(JSON.stringify({ objectClassName: "domain", handle: "fed-" + lineNo }));
  }
  if (bad) lines.push("this line is not JSON");
  // A new file per call: the source picks up new files of the directory.
  fileNo++;
  const name = path.join(inputDir, "fed-" + String(fileNo).padStart(5, "0") + ".jsonl");
  fs.writeFileSync(name + ".tmp", lines.join("\n") + "\n");
  fs.renameSync(name + ".tmp", name);
}

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
  console.log("ok: " + what);
}

function number(text) {
  return Number(String(text).replace(/,/g, ""));
}

async function cell(page, pipeline, cls) {
  return page.$eval(`tr[data-pipeline="${pipeline}"] td.${cls}`, (e) => e.textContent);
}

async function errorCellChecks(page, label) {
  const state = await cell(page, "doomed", "state-cell");
  check(state === "failed", `${label}: doomed shows state failed (got "${state}")`);
  const error = await cell(page, "doomed", "error");
  check(error.includes(MARKUP), `${label}: doomed's error shows the markup as text (got "${error}")`);
  const children = await page.$eval('tr[data-pipeline="doomed"] td.error', (e) => e.childElementCount);
  check(children === 0, `${label}: the error cell holds no element`);
  check((await page.$$("img")).length === 0, `${label}: no <img> got into the page`);
  const scripts = await page.$$eval("script", (s) => s.map((e) => e.getAttribute("src")));
  check(scripts.length === 1 && scripts[0] === "/status.js", `${label}: the only script is /status.js (${scripts})`);
}

async function main() {
  const profile = process.env.PROFILE_DIR;
  fs.mkdirSync(profile, { recursive: true });
  // Two browsers, each on a fresh profile (playwright passes it as
  // --user-data-dir): one with JavaScript, one without.
  const launch = (dir, options) =>
    chromium.launchPersistentContext(path.join(profile, dir), {
      executablePath: process.env.RDAPSYNC_CHROMIUM || "/usr/bin/chromium",
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      ...options,
    });
  const live = await launch("live", { viewport: { width: 1500, height: 420 } });
  let plain = null;
  try {
    // ---- JavaScript on ----
    const page = await live.newPage();
    const problems = [];
    page.on("dialog", (d) => {
      problems.push("a dialog opened: " + d.message());
      d.dismiss().catch(() => {});
    });
    page.on("pageerror", (e) => problems.push("script error: " + e.message));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push("console error: " + m.text());
    });

    const response = await page.goto(url);
    check(response.status() === 200, "GET / answers 200");
    const csp = response.headers()["content-security-policy"] || "";
    check(csp.includes("default-src 'self'"), `GET / carries Content-Security-Policy default-src 'self' (${csp})`);
    await page.evaluate(() => {
      window.notReloaded = true;
    });
    await page.waitForFunction(() => Number(document.body.dataset.refreshes) >= 1, null, { timeout: WAIT_MS });
    check(true, "status.js refreshed the table from /status");

    await page.waitForFunction(
      () => {
        const e = document.querySelector('tr[data-pipeline="flowing"] td.records');
        return e && Number(e.textContent.replace(/,/g, "")) >= 3;
      },
      null,
      { timeout: WAIT_MS }
    );
    const before = number(await cell(page, "flowing", "records"));
    const deadBefore = number(await cell(page, "flowing", "dead"));
    feed(200, true);
    await page.waitForFunction(
      (n) => {
        const e = document.querySelector('tr[data-pipeline="flowing"] td.records');
        return e && Number(e.textContent.replace(/,/g, "")) >= n;
      },
      before + 201,
      { timeout: WAIT_MS }
    );
    const after = number(await cell(page, "flowing", "records"));
    check(after > before, `Records of flowing moved from ${before} to ${after} without a reload`);
    check(await page.evaluate(() => window.notReloaded === true), "the page was not reloaded");
    const dead = number(await cell(page, "flowing", "dead"));
    check(dead === deadBefore + 1, `the bad line shows as a dead letter (${deadBefore} -> ${dead})`);
    // The rate covers the last seconds: keep records coming until a refresh
    // shows it (each round only paces the feeding; none decides the result).
    let moving = false;
    for (let round = 0; round < 120 && !moving; round++) {
      feed(20, false);
      moving = await page
        .waitForFunction(
          () => {
            const e = document.querySelector('tr[data-pipeline="flowing"] td.rate');
            return e && Number(e.textContent.replace(/,/g, "")) > 0;
          },
          null,
          { timeout: 1000 }
        )
        .then(() => true, () => false);
    }
    check(moving, "Records/s of flowing left 0.0 while records came in");
    check(true, `Records/s of flowing left 0.0 (${await cell(page, "flowing", "rate")})`);
    const spark = await cell(page, "flowing", "spark");
    check(/^[\u2581-\u2588]+$/.test(spark), `flowing has a sparkline (${spark})`);
    await errorCellChecks(page, "live");
    const links = await page.$$eval("nav a", (as) => as.map((a) => a.getAttribute("href")));
    check(links.includes("/metrics") && links.includes("/status"), "links to /metrics and /status");

    // ---- JavaScript off: the server-rendered table ----
    plain = await launch("plain", { javaScriptEnabled: false });
    const still = await plain.newPage();
    await still.goto(url);
    check((await still.$$("tbody tr")).length === 2, "without JavaScript: the table has both tasks");
    const plainRecords = number(await cell(still, "flowing", "records"));
    check(plainRecords >= after, `without JavaScript: Records of flowing is ${plainRecords}`);
    check(number(await cell(still, "flowing", "dead")) === dead, "without JavaScript: the dead letter shows");
    await errorCellChecks(still, "without JavaScript");
    const refresh = await still.$eval('meta[http-equiv="refresh"]', (m) => m.getAttribute("content"));
    check(refresh === "5", "without JavaScript: <noscript> reloads the page every 5 s");
    check((await still.$eval("body", (b) => b.dataset.refreshes)) === "0", "without JavaScript: no script ran");
    await plain.close();
    plain = null;

    check(problems.length === 0, "no dialog, script error or CSP violation: " + problems.join("; "));

    if (screenshot) {
      // About a minute of varying input: the sparkline gets its samples.
      for (let s = 0; s < 60; s++) {
        feed(40 + Math.round(35 * Math.sin(s / 6)), false);
        await page.waitForTimeout(1000);
      }
      await page.waitForFunction((n) => Number(document.body.dataset.refreshes) > n,
        Number(await page.evaluate(() => document.body.dataset.refreshes)), { timeout: WAIT_MS });
      fs.mkdirSync(path.dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log("screenshot: " + screenshot);
    }
  } finally {
    if (plain) await plain.close();
    await live.close();
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
