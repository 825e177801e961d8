package dev.tollgate.daemon.clients;

import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.origins.OriginKeyStore;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * git pushing to and cloning from a smart-HTTP server ({@code git http-backend} behind {@link WebOrigin})
 * through Tollgate (issue #20). The push carries 4 MiB that does not compress, with {@code http.postBuffer} at
 * 64 KiB, so git streams its pack as a chunked POST. git runs with a home of its own and no system config, so
 * neither the machine's git config nor its proxy settings take part. Over https the same goes through CONNECT
 * tunnels.
 */
class GitIT extends OriginBehindTollgate {

    private static final Duration LIMIT = Duration.ofMinutes(2);
    private static final int PUSHED_BYTES = 4 * 1024 * 1024;

    private Map<String, String> environment;

    @BeforeEach
    void start() throws Exception {
        ClientTool.assumeInstalled("git", "git");
        Path home = Files.createDirectories(dir.resolve("home"));
        environment = Map.of("HOME", home.toString(), "GIT_CONFIG_NOSYSTEM", "1", "GIT_TERMINAL_PROMPT", "0",
                "GIT_AUTHOR_NAME", "Tollgate Test", "GIT_AUTHOR_EMAIL", "test@localhost",
                "GIT_COMMITTER_NAME", "Tollgate Test", "GIT_COMMITTER_EMAIL", "test@localhost");
        Path root = Files.createDirectories(dir.resolve("served"));
        git(root, "init", "-q", "--bare", "-b", "main", "project.git");
        git(root.resolve("project.git"), "config", "http.receivepack", "true");
        startOriginAndTollgate(null, root);
    }

    @Test
    void pushOfFourMebibytesStreamedChunkedThenCloneGetsItBack() throws Exception {
        commitData();
        String url = origin.base() + "/git/project.git";
        String proxy = "http.proxy=http://127.0.0.1:" + tollgate.port();

        git(dir.resolve("work"), "-c", proxy, "-c", "http.postBuffer=65536", "push", "-q", url, "main");
        git(dir, "-c", proxy, "clone", "-q", url, "clone");

        assertClonedWhole();
        // git first probes with a 4-byte POST, then streams the pack.
        List<WebOrigin.Received> packs = origin.received().stream()
                .filter(r -> r.path().endsWith("/git-receive-pack")).toList();
        assertTrue(packs.stream().anyMatch(r -> "chunked".equals(r.header("Transfer-Encoding"))),
                () -> "the pack is streamed, as postBuffer asks: " + packs);
        // The probe's row and the pack's row.
        AccessRecord push = tollgate.awaitRows(2, r -> "/git/project.git/git-receive-pack".equals(r.path()))
                .stream().max(java.util.Comparator.comparingLong(AccessRecord::bytesFromClient)).orElseThrow();
        assertEquals("POST", push.method());
        assertEquals(200, push.status(), push::toString);
        assertEquals(Outcome.OK, push.outcome(), push::toString);
        assertTrue(push.bytesFromClient() > PUSHED_BYTES, push::toString);
        // Protocol v2: ls-refs, then the fetch that brings the pack.
        AccessRecord fetch = tollgate.awaitRows(2, r -> "/git/project.git/git-upload-pack".equals(r.path()))
                .stream().max(java.util.Comparator.comparingLong(AccessRecord::bytesToClient)).orElseThrow();
        assertEquals(Outcome.OK, fetch.outcome(), fetch::toString);
        assertTrue(fetch.bytesToClient() > PUSHED_BYTES, fetch::toString);
        List<AccessRecord> refs = tollgate.awaitRows(2, r -> "/git/project.git/info/refs".equals(r.path()));
        assertTrue(refs.stream().allMatch(r -> r.status() == 200 && r.outcome() == Outcome.OK), refs::toString);
    }

    /**
     * The same over https: git (libcurl) opens a CONNECT tunnel through the proxy and speaks TLS to the origin,
     * trusting only its certificate. The rows are the tunnels', with the pack's bytes each way.
     */
    @Test
    void pushAndCloneOverHttpsGoThroughConnectTunnels() throws Exception {
        Path keyStore = OriginKeyStore.in(dir);
        Path pem = OriginKeyStore.writeCertificatePem(keyStore, dir.resolve("origin.pem"));
        WebOrigin secure = WebOrigin.builder().git(dir.resolve("served")).tls(keyStore).start();
        try (RunningTollgate tunnelling = RunningTollgate.start(dir.resolve("tollgate-tls"),
                RunningTollgate.loopbackListener(secure.port()))) {
            commitData();
            String url = secure.base() + "/git/project.git";
            String proxy = "http.proxy=http://127.0.0.1:" + tunnelling.port();
            // Trust only the origin's certificate (the environment variable: git 2.39 with GnuTLS did not take
            // http.sslCAInfo from -c).
            Map<String, String> plain = environment;
            environment = new java.util.HashMap<>(plain);
            environment.put("GIT_SSL_CAINFO", pem.toString());

            git(dir.resolve("work"), "-c", proxy, "-c", "http.postBuffer=65536", "push", "-q", url, "main");
            git(dir, "-c", proxy, "clone", "-q", url, "clone");

            assertClonedWhole();
            List<AccessRecord> tunnels = tunnelling.awaitRows(2, r -> r.kind() == Kind.TUNNEL
                    && r.port() == secure.port());
            // git (libcurl with GnuTLS) may close a tunnel with unread bytes from the origin still in its socket,
            // which the kernel turns into a reset: the row then says CLIENT_ABORT, which is what happened on the
            // wire. A tunnel's row cannot see that the push inside it had already succeeded.
            assertTrue(tunnels.stream().allMatch(r -> r.status() == 200
                    && (r.outcome() == Outcome.OK || r.outcome() == Outcome.CLIENT_ABORT)), tunnels::toString);
            assertTrue(tunnels.stream().anyMatch(r -> r.bytesFromClient() > PUSHED_BYTES), tunnels::toString);
            assertTrue(tunnels.stream().anyMatch(r -> r.bytesToClient() > PUSHED_BYTES), tunnels::toString);
        } finally {
            secure.close();
        }
    }

    /** A repository in work/ with 4 MiB of incompressible data and a README, committed. */
    private void commitData() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        git(work, "init", "-q", "-b", "main");
        byte[] data = new byte[PUSHED_BYTES];
        new Random(20).nextBytes(data);
        try (OutputStream out = Files.newOutputStream(work.resolve("data.bin"))) {
            out.write(data);
        }
        Files.writeString(work.resolve("README"), "pushed through Tollgate\n");
        git(work, "add", ".");
        git(work, "commit", "-q", "-m", "data");
    }

    private void assertClonedWhole() throws Exception {
        assertEquals(WebOrigin.sha256(dir.resolve("work").resolve("data.bin")), WebOrigin.sha256(dir
                .resolve("clone").resolve("data.bin")));
        assertEquals("pushed through Tollgate\n", Files.readString(dir.resolve("clone").resolve("README")));
    }

    private void git(Path in, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("git"));
        command.addAll(List.of(args));
        ClientTool.Result git = ClientTool.run(in, LIMIT, environment, command);
        assertEquals(0, git.exitCode(), () -> String.join(" ", command) + "\n" + git.output());
    }
}
