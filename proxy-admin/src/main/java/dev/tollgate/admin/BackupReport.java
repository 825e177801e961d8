package dev.tollgate.admin;

/**
 * An online backup of the access-log database.
 *
 * @param file       where it was written (on the daemon's host)
 * @param bytes      its size
 * @param durationMs how long it took
 */
public record BackupReport(String file, long bytes, long durationMs) {
}
