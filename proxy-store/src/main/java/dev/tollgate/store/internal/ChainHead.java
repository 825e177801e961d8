package dev.tollgate.store.internal;

/**
 * The newest stored row of a node's chain: its journal number and its chain value (the genesis, 32 zero bytes,
 * with number 0 before the first row). What the next row links to, and what a checkpoint signs.
 */
public record ChainHead(long seq, byte[] chain) {
}
