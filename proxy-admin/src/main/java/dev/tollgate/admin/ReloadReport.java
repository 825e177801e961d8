package dev.tollgate.admin;

import java.util.ArrayList;
import java.util.List;

/**
 * What a reload of tollgate.json did. Listeners are named by what happened to them; the keys outside the
 * listeners that changed in the file but keep their running value until a restart are listed in
 * {@code needsRestart}; a listener whose new definition could not start is named in {@code failed} with the
 * reason.
 *
 * @param outcome      {@value #APPLIED} (everything in the file runs now, but what needs a restart),
 *                     {@value #PARTLY_APPLIED} (some listener failed), or {@value #UNCHANGED}
 * @param added        config listeners started
 * @param removed      config listeners stopped (after their drain) and removed
 * @param restarted    config listeners restarted with their new definition (the old connector drained)
 * @param unchanged    config listeners left running as they were
 * @param needsRestart keys that changed but apply only at the next start, e.g. {@code store.url}
 * @param failed       one line per listener that could not be changed, naming it and the reason
 */
public record ReloadReport(
        String outcome,
        List<String> added,
        List<String> removed,
        List<String> restarted,
        List<String> unchanged,
        List<String> needsRestart,
        List<String> failed) {

    public static final String APPLIED = "applied";
    public static final String PARTLY_APPLIED = "partly applied";
    public static final String UNCHANGED = "unchanged";

    public ReloadReport {
        added = List.copyOf(added);
        removed = List.copyOf(removed);
        restarted = List.copyOf(restarted);
        unchanged = List.copyOf(unchanged);
        needsRestart = List.copyOf(needsRestart);
        failed = List.copyOf(failed);
    }

    /** One line for the log and the admin-event trail, e.g. {@code applied: added b; restarted a}. */
    public String summary() {
        List<String> parts = new ArrayList<>();
        part(parts, "added", added);
        part(parts, "removed", removed);
        part(parts, "restarted", restarted);
        part(parts, "needs restart", needsRestart);
        part(parts, "failed", failed);
        return parts.isEmpty() ? outcome : outcome + ": " + String.join("; ", parts);
    }

    private static void part(List<String> parts, String label, List<String> names) {
        if (!names.isEmpty()) {
            parts.add(label + " " + String.join(", ", names));
        }
    }
}
