import * as assert from "assert";
import { closesConnection, readRequestHead } from "../../images/src/requestHead";

/** Issue 20: the Host and request-target rule both servers apply before routing. */
describe("web API: Host and request target", function () {
  it("accepts one host name, IPv4 or [IPv6] address with an optional port, or no Host at all (HTTP/1.0)", function () {
    for (const host of ["lab", "lab:8000", "127.0.0.1:8013", "[::1]:80", "my-host.example_1.~x", undefined]) {
      assert.deepStrictEqual(readRequestHead("/api/light", host), { ok: true, target: "/api/light" }, String(host));
    }
  });

  it("refuses an empty, duplicate (joined by ', ') or invalid Host, whatever the target", function () {
    for (const host of ["", "a b", "a, b", "a,b", "a/b", "a?b", "a#b", "a@b", "lab:port", "[zz]"]) {
      const head = readRequestHead("/x/metrics", host);
      assert.strictEqual(head.ok, false, host);
      assert.match(!head.ok ? head.problem : "", /^invalid Host header /);
    }
  });

  it("normalises the path as WHATWG's URL parser does, as Bun.serve hands it over", function () {
    const cases: [string, string][] = [
      ["/api/x/../light", "/api/light"],
      ["/api\\light", "/api/light"],
      ["/api/%2e%2e/health", "/health"],
      ["/a/../../health", "/health"],
      ["/./health?x=1", "/health?x=1"],
      ["http://lab/api/light", "/api/light"],
      ["HTTP://lab:80/metrics?a=b", "/metrics?a=b"],
      // A path, never an authority: the request line's path is the one routed.
      ["//x/metrics", "//x/metrics"],
      ["/api/slow?ms=100", "/api/slow?ms=100"],
    ];
    for (const [target, routed] of cases) assert.deepStrictEqual(readRequestHead(target, "lab"), { ok: true, target: routed }, target);
  });

  it("refuses a target that is neither a path nor an absolute http URL", function () {
    for (const target of ["*", "lab:80", "ftp://lab/api/light", "api/light"]) {
      const head = readRequestHead(target, "lab");
      assert.strictEqual(head.ok, false, target);
      assert.match(!head.ok ? head.problem : "", /^invalid request target /);
    }
  });

  it("closes after HTTP/1.0 without Host, Connection: close and any Upgrade request", function () {
    const request = (host: string | undefined, connection?: string, upgrade?: string) => ({ host, connection, upgrade });
    assert.strictEqual(closesConnection(request("lab")), false);
    assert.strictEqual(closesConnection(request("lab", "keep-alive")), false);
    assert.strictEqual(closesConnection(request("lab", "closer")), false);
    assert.strictEqual(closesConnection(request(undefined)), true);
    assert.strictEqual(closesConnection(request("lab", "Close")), true);
    assert.strictEqual(closesConnection(request("lab", "keep-alive, close")), true);
    assert.strictEqual(closesConnection(request("lab", "upgrade", "websocket")), true);
  });
});
