/**
 * What kraft's root file system needs by `unikernelMemoryEstimateMi` over the figures
 * tests/integration/unikernel.test.ts measures (kraft cannot run here, so it is estimated, not
 * measured like the source build's floor, the default memoryMi). The kraft path warns below it.
 */
export const KRAFT_MEMORY_ESTIMATE_MI = 384;

/** What Unikraft itself holds beside the app: kernel image, page tables, lwIP buffers, allocator slack. */
export const UNIKRAFT_OVERHEAD_MI = 32;

/**
 * Guest memory the unikernel needs, from two measured figures: the payload (Node serving under
 * load: the larger of its container memory floor and its resident set, since a guest shares no
 * page cache with anyone) and the root file system's size. The guest keeps the initramfs archive
 * in RAM *and* the ramfs it is unpacked into, so the tree is held twice; then comes Unikraft's
 * overhead. Rounded up to a multiple of 64 Mi so a few MiB of drift between builds changes nothing.
 */
export function unikernelMemoryEstimateMi(payloadMi: number, rootfsMi: number): number {
  const needed = payloadMi + 2 * rootfsMi + UNIKRAFT_OVERHEAD_MI;
  return Math.ceil(needed / 64) * 64;
}
