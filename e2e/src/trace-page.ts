/**
 * The local trace page (platform/dev's trace sink, `/traces`) as a person uses it in a browser: read the
 * list, pick a service, tick "Errors only", open a trace, open a span. Each function acts through the
 * page's own controls and reads what is shown.
 */
import type { Page } from './browser.js';

/** One row of the list, as shown. */
export interface ListedTrace {
  readonly traceId: string;
  /** What started the trace: `POST /api/orders`, `event order.placed`. */
  readonly title: string;
  /** The services shown for it, sorted. */
  readonly services: readonly string[];
  /** The errors cell: empty, or `<n> ✗`. */
  readonly errors: string;
}

/** One span of a trace's waterfall, as shown. */
export interface ShownSpan {
  readonly service: string;
  /** Its label: kind, service, name. */
  readonly label: string;
  readonly duration: string;
}

export function listedTraces(page: Page): Promise<ListedTrace[]> {
  return page.evaluate(
    `[...document.querySelectorAll('#traces tr.trace')].map((row) => ({
      traceId: row.dataset.traceId,
      title: row.querySelector('a').textContent,
      services: [...row.querySelectorAll('.chip')].map((c) => c.textContent).sort(),
      errors: row.lastElementChild.textContent,
    }))`,
  );
}

/** Picks `service` in the Service list ('' for all); the form submits on change. */
export function filterByService(page: Page, service: string): Promise<void> {
  return page.navigatedBy(`(() => {
    const select = document.querySelector('select[name=service]');
    select.value = ${JSON.stringify(service)};
    select.dispatchEvent(new Event('change'));
  })()`);
}

/** Clicks the "Errors only" box; the form submits on change. */
export function toggleErrorsOnly(page: Page): Promise<void> {
  return page.navigatedBy(`document.querySelector('input[name=errors]').click()`);
}

/** Clicks the trace's link in the list. */
export function openTrace(page: Page, traceId: string): Promise<void> {
  return page.navigatedBy(`document.querySelector('tr.trace[data-trace-id="${traceId}"] a').click()`);
}

export function shownSpans(page: Page): Promise<ShownSpan[]> {
  return page.evaluate(
    `[...document.querySelectorAll('#spans details.span')].map((d) => ({
      service: d.dataset.service,
      label: d.querySelector('.label').textContent,
      duration: d.querySelector('.dur').textContent,
    }))`,
  );
}

/** Clicks the first span of `service` whose label contains `text`, and reads the attributes it shows. */
export function openSpan(page: Page, service: string, text: string): Promise<Record<string, string>> {
  return page.evaluate(`(() => {
    const span = [...document.querySelectorAll('#spans details.span')].find(
      (d) => d.dataset.service === ${JSON.stringify(service)} && d.querySelector('.label').textContent.includes(${JSON.stringify(text)}),
    );
    if (!span.open) span.querySelector('summary').click();
    return Object.fromEntries(
      [...span.querySelectorAll('.attrs tr')].map((r) => [r.querySelector('th').textContent, r.querySelector('td').textContent]),
    );
  })()`);
}
