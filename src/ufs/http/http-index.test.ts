import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { readAll } from '../../common/streams.js';
import { rejectsWith } from '../../testing/assertions.js';
import type { UfsStatus, UnderFileSystem } from '../under-file-system.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';
import { parseHtmlIndex, parseIndex, parseJsonIndex } from './http-index.js';

/** Apache's mod_autoindex, abridged: icon links, sort links, the parent, absolute links. */
const APACHE = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html><head><title>Index of /pub</title></head><body><h1>Index of /pub</h1>
<table><tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th></tr>
<tr><td><a href="/pub/"><img src="/icons/back.gif" alt="[PARENTDIR]"></a></td><td><a href="/pub/">Parent Directory</a></td></tr>
<tr><td><a href="b%20c.txt"><img src="/icons/text.gif"></a></td><td><a href="b%20c.txt">b c.txt</a></td><td>2024-01-01 10:00</td></tr>
<tr><td><a href="data/"><img src="/icons/folder.gif"></a></td><td><a href="data/">data/</a></td></tr>
<tr><td><a href='q%3Fand%26amp%3B'>q?and&amp;amp;</a></td></tr>
<tr><td><a HREF=plain>plain</a></td></tr>
</table><address>Apache Server at example.org Port 80</address>
<a href="http://example.org/elsewhere">elsewhere</a> <a href="mailto:x@example.org">mail</a> <a href="#top">top</a>
</body></html>`;

/** nginx's HTML autoindex. */
const NGINX = `<html><head><title>Index of /x/</title></head><body><h1>Index of /x/</h1><hr><pre><a href="../">../</a>
<a href="sub/">sub/</a>                                               06-Dec-2026 17:16                   -
<a href="a%26b&amp;c">a&amp;b&amp;c</a>                                          06-Dec-2026 17:16                  11
</pre><hr></body></html>`;

/** Python's http.server. */
const PYTHON = `<ul>
<li><a href="%C3%BCn%C3%AF.txt">ünï.txt</a></li>
<li><a href="./dot">dot</a></li>
<li><a href="deep/er/">deep/er/</a></li>
<li><a href="bad%E0%A4%A">bad</a></li>
<li><a href="..">..</a></li>
</ul>`;

describe('parseIndex', () => {
  it('reads Apache, nginx and Python HTML pages: relative one-level links, each once, decoded', () => {
    assert.deepEqual(parseHtmlIndex(APACHE), [
      { name: 'b c.txt', kind: 'file' },
      { name: 'data', kind: 'directory' },
      { name: 'q?and&amp;', kind: 'file' },
      { name: 'plain', kind: 'file' },
    ]);
    assert.deepEqual(parseHtmlIndex(NGINX), [{ name: 'sub', kind: 'directory' }, { name: 'a&b&c', kind: 'file' }]);
    assert.deepEqual(parseHtmlIndex(PYTHON), [{ name: 'ünï.txt', kind: 'file' }, { name: 'dot', kind: 'file' }]);
  });

  it("reads nginx's JSON autoindex, leaving out what is neither file nor directory", () => {
    const json = `[
{ "name":"sub", "type":"directory", "mtime":"Sun, 06 Dec 2026 17:16:09 GMT" },
{ "name":"q?m&amp \\"quoted\\"", "type":"file", "mtime":"Sun, 06 Dec 2026 17:16:09 GMT", "size":1 },
{ "name":"sock", "type":"other", "mtime":"Sun, 06 Dec 2026 17:16:09 GMT" },
{ "name":"..", "type":"directory" }
]`;
    const expected = [{ name: 'sub', kind: 'directory' }, { name: 'q?m&amp "quoted"', kind: 'file' }];
    assert.deepEqual(parseJsonIndex(json), expected);
    assert.deepEqual(parseIndex(json, 'application/json'), expected);
    assert.deepEqual(parseIndex(json, undefined), expected);
    assert.deepEqual(parseIndex(NGINX, 'text/html; charset=utf-8'), parseHtmlIndex(NGINX));
    assert.throws(() => parseIndex('{"not": "a list"}', 'application/json'), /not an array/);
  });
});

describe('HttpUfs over an HTML index', () => {
  const files: Record<string, string> = { 'pub/b c.txt': 'bee see', 'pub/data/x.bin': 'x', 'pub/data/deeper/y': 'why', 'pub/plain': 'plain text', 'pub/q?and&amp;': 'odd' };
  let ufs: UnderFileSystem;
  let server: Server;
  const pages: Record<string, string> = {
    '/pub/': APACHE,
    '/pub/data/': '<a href="../">Parent</a><a href="x.bin">x.bin</a><a href="deeper/">deeper/</a>',
    '/pub/data/deeper/': '<a href="y">y</a>',
  };

  before(async () => {
    server = createServer((req, res) => {
      const path = decodeURIComponent(req.url ?? '/');
      const page = pages[path];
      if (page !== undefined) return void res.writeHead(200, { 'content-type': 'text/html' }).end(req.method === 'HEAD' ? undefined : page);
      if (pages[`${path}/`] !== undefined) return void res.writeHead(301, { location: `${req.url}/`, 'content-length': 0 }).end();
      const body = files[path.slice(1)];
      if (body === undefined) return void res.writeHead(404, { 'content-length': 0 }).end();
      res.writeHead(200, { 'content-length': Buffer.byteLength(body), 'last-modified': 'Mon, 01 Jan 2024 10:00:00 GMT' });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ufs = await createDefaultUfsRegistry().create(`http://127.0.0.1:${(server.address() as AddressInfo).port}/pub/`);
  });
  after(async () => {
    await ufs.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('lists one level and recursively in byte order, with sizes and versions from HEADs', async () => {
    const oneLevel = await collect(ufs.list(''));
    assert.deepEqual(oneLevel.map((e) => [e.path, e.kind, e.size]), [
      ['b c.txt', 'file', 7],
      ['data', 'directory', 0],
      ['plain', 'file', 10],
      ['q?and&amp;', 'file', 3],
    ]);
    assert.equal(oneLevel[0]?.version, `${Date.parse('Mon, 01 Jan 2024 10:00:00 GMT')}-7`);
    const all = await collect(ufs.list('', { recursive: true }));
    assert.deepEqual(all.map((e) => e.path), ['b c.txt', 'data/deeper/y', 'data/x.bin', 'plain', 'q?and&amp;']);
    assert.deepEqual((await collect(ufs.list('', { recursive: true, startAfter: 'data/deeper/y' }))).map((e) => e.path), ['data/x.bin', 'plain', 'q?and&amp;']);
  });

  it('tells directories by their redirect, and reads files with odd names', async () => {
    assert.equal((await ufs.stat('data')).kind, 'directory');
    await rejectsWith(ufs.read('data'), 'IS_A_DIRECTORY');
    await rejectsWith(collect(ufs.list('plain')), 'NOT_A_DIRECTORY');
    await rejectsWith(collect(ufs.list('missing')), 'NOT_FOUND');
    assert.equal((await readAll((await ufs.read('q?and&amp;')).stream)).toString(), 'odd');
  });
});

async function collect(listing: AsyncIterable<UfsStatus>): Promise<UfsStatus[]> {
  const out: UfsStatus[] = [];
  for await (const entry of listing) out.push(entry);
  return out;
}
