// The README's Workbench screenshot: a statement whose cached part (the demo cache
// revenue_by_nation) is read from the lake and joined in DuckDB with `nation` read live from a
// replica. Run by `make screenshot-workbench` against `skein serve` (SKEIN_URL with its token).
import { openConsole, base } from './lib.mjs';

const out = process.argv[2] ?? 'docs/workbench.png';
const sql = `SELECT r.nation, r.revenue, n.n_comment
FROM (SELECT n_name AS nation, count(DISTINCT o_orderkey) AS orders,
             sum(l_extendedprice * (1 - l_discount)) AS revenue
      FROM lineitem JOIN orders ON l_orderkey = o_orderkey
      JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey
      GROUP BY n_name ORDER BY revenue DESC) r
JOIN nation n ON n.n_name = r.nation
ORDER BY r.revenue DESC`;

const { browser, page } = await openConsole();
try {
  await page.goto(`${base}/#/workbench`);
  await page.getByLabel('SQL', { exact: true }).fill(sql);
  await page.locator('[data-testid="route"][data-target="cache"]').waitFor({ timeout: 30_000 });
  await page.locator('button.wb-run').click();
  await page.locator('[data-testid="result"][data-target="cache"]').waitFor({ timeout: 60_000 });
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
}
