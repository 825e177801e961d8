package dev.tollgate.daemon.gate;

import dev.tollgate.daemon.gate.BasicProxyAuthenticator;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.store.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Basic credentials against htpasswd files as Apache's own htpasswd writes them. */
class BasicProxyAuthenticatorTest {

    /** Written by {@code htpasswd -nbB carol 'correct horse'} and {@code htpasswd -nbB -C 4 dave 'p4ss:word'}. */
    private static final String HTPASSWD_B = """
            # made with apache2-utils 2.4 htpasswd -B
            carol:$2y$05$uiG3TLgwszSogMm6zva6meueGJ6Jq2ZjjlqdSA9C1rslMG8b5hDwK
            dave:$2y$04$/mcS8vB.g9pbn6ULpV9Y2OwWYFJ39YOX0d3kMSqBzjd2uoa4oPbmi
            erin:$apr1$5S2ifOqa$2cR8uYtKb5Pr9Sx2Trr4A.
            """;

    @TempDir
    Path dir;

    private BasicProxyAuthenticator authenticator() throws Exception {
        Path users = dir.resolve("users");
        Files.writeString(users, HTPASSWD_B);
        return new BasicProxyAuthenticator(users);
    }

    private static String basic(String credentials) {
        return "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void htpasswdBEntriesVerify() throws Exception {
        BasicProxyAuthenticator auth = authenticator();

        assertEquals("carol", auth.authenticate(basic("carol:correct horse")));
        // The password may contain ':'; only the first one separates the user (RFC 7617 2).
        assertEquals("dave", auth.authenticate(basic("dave:p4ss:word")));
        // Cached the second time: same answer.
        assertEquals("carol", auth.authenticate(basic("carol:correct horse")));
    }

    @Test
    void aWrongPasswordFailsNamingTheUserButNotThePassword() throws Exception {
        RequestRefusedException refused = assertThrows(RequestRefusedException.class,
                () -> authenticator().authenticate(basic("carol:incorrect horse")));

        assertEquals(407, refused.status());
        assertEquals(Outcome.AUTH_FAILED, refused.outcome());
        assertEquals("carol", refused.username());
        assertTrue(!refused.reason().contains("incorrect"), refused.reason());
    }

    @Test
    void anEntryThatIsNotBcryptIsIgnored() throws Exception {
        RequestRefusedException refused = assertThrows(RequestRefusedException.class,
                () -> authenticator().authenticate(basic("erin:whatever")));

        assertTrue(refused.reason().contains("unknown user"), refused.reason());
    }

    @Test
    void noHeaderIsAuthRequiredWithoutAUser() throws Exception {
        RequestRefusedException refused = assertThrows(RequestRefusedException.class,
                () -> authenticator().authenticate(null));

        assertEquals(Outcome.AUTH_REQUIRED, refused.outcome());
        assertNull(refused.username());
    }

    @Test
    void anotherSchemeFails() throws Exception {
        RequestRefusedException refused = assertThrows(RequestRefusedException.class,
                () -> authenticator().authenticate("Bearer abc"));

        assertEquals(Outcome.AUTH_FAILED, refused.outcome());
    }
}
