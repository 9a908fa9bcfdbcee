import * as assert from "assert";
import { UnikernelConfig } from "../../model/config";
import { LOCAL_BASE_IMAGES } from "../../model/naming";
import { unikernelSchema } from "../../model/config/unikernel";
import {
  bridgeCreateCommand,
  bridgeDeleteCommand,
  instanceDeleteCommand,
  kraftBuildCommand,
  kraftRunCommand,
  memoryQuantity,
  rootfsBuildCommand,
  rootfsDeleteCommand,
  runCreateCommand,
  shellQuote,
  unikernelMemoryEstimateMi,
  unikernelUrl,
} from "../../components/unikernel";

function config(overrides: Record<string, unknown> = {}): UnikernelConfig {
  return unikernelSchema.parse(overrides);
}

const RUN = { name: "optivolt-lab-unikernel", bindAddress: "127.0.0.1", emulation: false };

describe("unikernel commands", () => {
  describe("kraft run, for every platform × architecture × network × emulation", () => {
    const platforms = ["qemu", "fc", "xen"] as const;
    const architectures = ["x86_64", "arm64"] as const;
    const networks = ["user", "bridge"] as const;
    for (const platform of platforms) {
      for (const architecture of architectures) {
        for (const network of networks) {
          // Only QEMU emulates a CPU (Firecracker and Xen need KVM): the config refuses the other pairs.
          for (const emulation of platform === "qemu" ? [false, true] : [false]) {
            it(`${platform}/${architecture}, ${network} networking, emulation ${emulation}`, () => {
              const cfg = config({ platform, architecture, network, memoryMi: 320 });
              const networking = network === "bridge" ? "--network optivolt0:172.44.0.2/24" : "--port 127.0.0.1:8004:8000";
              assert.strictEqual(
                kraftRunCommand(cfg, { ...RUN, emulation }),
                `kraft run --detach --name optivolt-lab-unikernel --plat ${platform} --arch ${architecture} --memory 320Mi ` +
                  `${networking}${emulation ? " --disable-acceleration" : ""} .`,
              );
              assert.strictEqual(kraftBuildCommand(cfg), `kraft build --plat ${platform} --arch ${architecture} .`);
            });
          }
        }
      }
    }
  });

  it("never writes the ambiguous short -p (platform on build, port on run)", () => {
    for (const network of ["user", "bridge"]) {
      const cfg = config({ network });
      for (const text of [kraftBuildCommand(cfg), kraftRunCommand(cfg, RUN), runCreateCommand(cfg, { ...RUN, healthUrl: "http://x/health" })]) {
        assert.doesNotMatch(text, /\s-p\s/);
      }
    }
  });

  it("forwards the configured host port on the bind address to the app's port 8000", () => {
    const text = kraftRunCommand(config({ hostPort: 9104 }), { ...RUN, bindAddress: "0.0.0.0" });
    assert.match(text, / --port 0\.0\.0\.0:9104:8000 /);
  });

  it("bridge networking attaches to the configured bridge and address, without port forwarding", () => {
    const cfg = config({ network: "bridge", bridge: { name: "kraft7", gateway: "10.9.0.1", prefixLength: 16, ip: "10.9.3.4" } });
    const text = kraftRunCommand(cfg, RUN);
    assert.match(text, / --network kraft7:10\.9\.3\.4\/16 /);
    assert.doesNotMatch(text, /--port/);
    assert.strictEqual(bridgeCreateCommand(cfg.bridge), "kraft net create --network 10.9.0.1/16 kraft7");
    assert.strictEqual(bridgeDeleteCommand(cfg.bridge), "kraft net rm kraft7");
    assert.strictEqual(unikernelUrl(cfg, "127.0.0.1"), "http://10.9.3.4:8000");
  });

  it("user networking URL is the forwarded port on the endpoint host", () => {
    assert.strictEqual(unikernelUrl(config({ hostPort: 8004 }), "127.0.0.1"), "http://127.0.0.1:8004");
  });

  describe("memory", () => {
    it("is a Kubernetes quantity in Mi (MiB), never a bare M (10^6 bytes)", () => {
      assert.strictEqual(memoryQuantity(384), "384Mi");
      assert.match(kraftRunCommand(config({ memoryMi: 512 }), RUN), / --memory 512Mi /);
      assert.doesNotMatch(kraftRunCommand(config({ memoryMi: 512 }), RUN), /\d+M\s/);
    });

    it("estimate: payload floor + the rootfs twice (initramfs and its ramfs copy) + Unikraft's overhead, rounded up to 64 Mi", () => {
      assert.strictEqual(unikernelMemoryEstimateMi(64, 130), 384); // 64 + 260 + 32 = 356 → 384
      assert.strictEqual(unikernelMemoryEstimateMi(96, 130), 448); // 388 → 448
      assert.strictEqual(unikernelMemoryEstimateMi(0, 16), 64);
    });

    it("defaults to the measured figure and refuses less than 16 Mi", () => {
      assert.strictEqual(config().memoryMi, 480);
      assert.throws(() => config({ memoryMi: 8 }), /at least 16/);
      assert.throws(() => config({ memoryMi: 100.5 }));
    });
  });

  it("run step waits on /health within the deadline, and on failure shows the guest log, removes it and fails", () => {
    const text = runCreateCommand(config({ healthTimeoutSeconds: 90 }), { ...RUN, healthUrl: "http://127.0.0.1:8004/health" });
    assert.strictEqual(
      text,
      [
        "set -eu",
        "kraft run --detach --name optivolt-lab-unikernel --plat qemu --arch x86_64 --memory 480Mi --port 127.0.0.1:8004:8000 .",
        "if ! node -r ts-node/register/transpile-only wait-for-health.ts http://127.0.0.1:8004/health 90; then",
        "  kraft logs optivolt-lab-unikernel 2>&1 | tail -n 40 >&2 || true",
        "  kraft rm optivolt-lab-unikernel >/dev/null 2>&1 || true",
        '  echo "unikernel optivolt-lab-unikernel removed: /health did not answer within 90 s (guest log above; try more memoryMi or healthTimeoutSeconds)" >&2',
        "  exit 1",
        "fi",
      ].join("\n"),
    );
  });

  it("delete stops then removes the instance, tolerating one already gone", () => {
    assert.strictEqual(instanceDeleteCommand("optivolt-lab-unikernel"), "kraft stop optivolt-lab-unikernel || true; kraft rm optivolt-lab-unikernel || true");
  });

  describe("rootfs step", () => {
    const images = { ...LOCAL_BASE_IMAGES, buildNetwork: "host" as const };
    const args = { images, nodeImage: "node:22-alpine", appImageTag: "optivolt-unikernel-app:abc", rootfsImageTag: "optivolt-unikernel-rootfs:abc", outDir: "rootfs" };

    it("builds the web API's app target from images/, adds a PIE Node, and extracts the tree as a directory", () => {
      assert.strictEqual(
        rootfsBuildCommand(args),
        [
          "set -eu",
          "docker build --quiet --force-rm --network host --target app --build-arg NODE_IMAGE=optivolt/node:22-bookworm --tag optivolt-unikernel-app:abc ../images",
          "docker build --quiet --force-rm --network host --build-arg APP_IMAGE=optivolt-unikernel-app:abc --build-arg NODE_IMAGE=node:22-alpine " +
            "--tag optivolt-unikernel-rootfs:abc - < Dockerfile",
          "container=$(docker create optivolt-unikernel-rootfs:abc)",
          `trap 'docker rm --force "$container" >/dev/null; rm -f rootfs.tar' EXIT`,
          'docker export --output rootfs.tar "$container"',
          "rm -rf rootfs && mkdir -p rootfs && tar -xf rootfs.tar -C rootfs --exclude=.dockerenv --exclude='dev/*' --exclude=etc/hostname " +
            "--exclude=etc/hosts --exclude=etc/resolv.conf --exclude=etc/mtab",
        ].join("\n"),
      );
    });

    it("lets a non-PIE Node through only when asked (offline inspection)", () => {
      assert.doesNotMatch(rootfsBuildCommand(args), /REQUIRE_PIE/);
      assert.match(rootfsBuildCommand({ ...args, requirePie: false }), / --build-arg REQUIRE_PIE=false --tag /);
    });

    it("uses the default build network unless the stack asks for host", () => {
      assert.doesNotMatch(rootfsBuildCommand({ ...args, images: { ...images, buildNetwork: "default" } }), /--network/);
    });

    it("delete removes both images and the extracted tree", () => {
      assert.strictEqual(
        rootfsDeleteCommand(args),
        "docker image rm --force optivolt-unikernel-rootfs:abc optivolt-unikernel-app:abc >/dev/null 2>&1 || true; rm -rf rootfs",
      );
    });
  });

  it("quotes anything a shell would interpret", () => {
    assert.strictEqual(shellQuote("plain-name_1.2:3/4"), "plain-name_1.2:3/4");
    assert.strictEqual(shellQuote("two words"), "'two words'");
    assert.strictEqual(shellQuote("it's $HOME"), `'it'"'"'s $HOME'`);
  });

  describe("config", () => {
    it("defaults: auto, qemu/x86_64, user networking, port 8004, emulation auto", () => {
      const cfg = config();
      assert.deepStrictEqual(
        { enabled: cfg.enabled, platform: cfg.platform, architecture: cfg.architecture, network: cfg.network, hostPort: cfg.hostPort, emulation: cfg.emulation },
        { enabled: "auto", platform: "qemu", architecture: "x86_64", network: "user", hostPort: 8004, emulation: "auto" },
      );
    });

    it("rejects a bridge address outside the bridge's subnet, or equal to its gateway", () => {
      assert.throws(() => config({ network: "bridge", bridge: { ip: "172.45.0.2" } }), /must be in 172\.44\.0\.1\/24/);
      assert.throws(() => config({ network: "bridge", bridge: { ip: "172.44.0.1" } }), /must differ from bridge\.gateway/);
      assert.doesNotThrow(() => config({ network: "user", bridge: { ip: "172.45.0.2" } }));
    });

    it("refuses emulation on a platform that cannot emulate", () => {
      assert.throws(() => config({ platform: "fc", emulation: true }), /only QEMU can emulate/);
      assert.doesNotThrow(() => config({ platform: "qemu", emulation: true }));
    });

    it("rejects unknown keys and values", () => {
      assert.throws(() => config({ cpus: 2 }));
      assert.throws(() => config({ enabled: "yes" }));
      assert.throws(() => config({ network: "tap" }));
    });
  });
});
