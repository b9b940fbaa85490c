import { ROOT_ID } from './fuse-abi.js';

interface Node {
  parent: number;
  name: string;
  /** Lookups the kernel holds: the node is forgotten when they are all given back. */
  lookups: number;
}

/**
 * The kernel names files by node id; dora by path. Each looked-up name gets a node id, kept until
 * the kernel forgets it; a node's path is its parent's path and its name, so a rename moves a whole
 * subtree at once.
 */
export class NodeTable {
  readonly #nodes = new Map<number, Node>();
  readonly #children = new Map<string, number>();
  #next = ROOT_ID + 1;

  /** The node of `name` in `parent` (made if new), with one more lookup held by the kernel. */
  lookup(parent: number, name: string): number {
    const key = childKey(parent, name);
    let id = this.#children.get(key);
    if (id === undefined) {
      id = this.#next++;
      this.#nodes.set(id, { parent, name, lookups: 0 });
      this.#children.set(key, id);
    }
    const node = this.#nodes.get(id);
    if (node !== undefined) node.lookups++;
    return id;
  }

  /** The node id of `name` in `parent`, if the kernel knows it. */
  peek(parent: number, name: string): number | undefined {
    return this.#children.get(childKey(parent, name));
  }

  forget(id: number, lookups: number): void {
    const node = this.#nodes.get(id);
    if (node === undefined) return;
    node.lookups -= lookups;
    if (node.lookups > 0) return;
    this.#nodes.delete(id);
    const key = childKey(node.parent, node.name);
    if (this.#children.get(key) === id) this.#children.delete(key);
  }

  /** The path of node `id` relative to the mount (`/` for the root); undefined for a node the kernel never looked up. */
  path(id: number): string | undefined {
    const names: string[] = [];
    let at = id;
    while (at !== ROOT_ID) {
      const node = this.#nodes.get(at);
      if (node === undefined) return undefined;
      names.push(node.name);
      at = node.parent;
    }
    return `/${names.reverse().join('/')}`;
  }

  /** `name` in `parent` is gone (unlink, rmdir): the node lives on, unnamed, until forgotten. */
  remove(parent: number, name: string): void {
    this.#children.delete(childKey(parent, name));
  }

  rename(parent: number, name: string, newParent: number, newName: string): void {
    const id = this.#children.get(childKey(parent, name));
    this.remove(newParent, newName);
    if (id === undefined) return;
    this.#children.delete(childKey(parent, name));
    const node = this.#nodes.get(id);
    if (node !== undefined) {
      node.parent = newParent;
      node.name = newName;
    }
    this.#children.set(childKey(newParent, newName), id);
  }
}

function childKey(parent: number, name: string): string {
  return `${parent}/${name}`;
}
