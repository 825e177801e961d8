package dev.tollgate.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small tmpfs mounted on a directory: a real filesystem that really fills up. Mounting needs root (or
 * CAP_SYS_ADMIN); without it the test is skipped with the reason. Unmounted on {@link #close()}, lazily if
 * something still holds a file open in it.
 */
public final class TmpfsMount implements AutoCloseable {

    private final Path dir;
    private boolean mounted;

    private TmpfsMount(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code size} (as mount's size option, e.g. "4m") on {@code dir}, creating it. */
    public static TmpfsMount mount(Path dir, String size) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        TmpfsMount mount = new TmpfsMount(dir);
        Result result = run("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", dir.toString());
        Assumptions.assumeTrue(result.exit() == 0, "mount -t tmpfs is not permitted here (it needs root or"
                + " CAP_SYS_ADMIN; running as uid " + uid() + "): " + result.output());
        mount.mounted = true;
        return mount;
    }

    public Path dir() {
        return dir;
    }

    /**
     * Writes {@code file} until the filesystem has no room left.
     *
     * @return the bytes written
     */
    public long fill(Path file) throws IOException {
        byte[] block = new byte[64 * 1024];
        long written = 0;
        try (var out = Files.newOutputStream(file)) {
            // Bounded by the mount's size; the filesystem ends the loop with "No space left on device".
            while (true) {
                out.write(block);
                written += block.length;
            }
        } catch (IOException full) {
            if (!String.valueOf(full.getMessage()).contains("No space left")) {
                throw full;
            }
        }
        // A final small write may still fit in a partial block: take that too.
        try (var out = Files.newOutputStream(file, StandardOpenOption.APPEND)) {
            for (int i = 0; i < 4096; i++) {
                out.write(0);
                out.flush();
                written++;
            }
        } catch (IOException full) {
            // now full to the byte
        }
        return written;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (!mounted) {
            return;
        }
        Result result = run("umount", dir.toString());
        if (result.exit() != 0) {
            // Busy: detach it now, freed when the last file in it closes.
            Result lazy = run("umount", "-l", dir.toString());
            if (lazy.exit() != 0) {
                throw new IOException("cannot unmount " + dir + ": " + result.output() + " / " + lazy.output());
            }
        }
        mounted = false;
    }

    private record Result(int exit, String output) {
    }

    private static Result run(String... command) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Result(-1, e.getMessage());
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return new Result(-1, String.join(" ", command) + " did not finish within 60 s");
        }
        return new Result(process.exitValue(), output);
    }

    private static String uid() {
        try {
            return String.valueOf(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return System.getProperty("user.name");
        }
    }
}
