package dev.tollgate.store;

/**
 * An access record with its place in the node's journal: what the writer stores, once, under (node, seq).
 *
 * @param seq    the record's sequence number in the journal of the node that made it
 * @param record the record
 */
public record JournaledRecord(long seq, AccessRecord record) {
}
