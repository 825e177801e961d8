package dev.tollgate.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared maintainer scripts, case by case, for both package formats, without installing anything: every
 * command they may call (getent, adduser, useradd, install, userdel, rm ...) is a stub on an otherwise empty
 * PATH that logs its arguments, so nothing on this machine changes and an unexpected command fails the script.
 * This is the only test of the rpm cases ($1 = 0, 1, 2): the lifecycle test runs the deb ones for real.
 * Where systemd is running the scripts also call systemctl; that branch is not covered here.
 */
class MaintainerScriptsIT {

    private static final Path SCRIPTS = Packages.DIST.resolve("../../src/pkg/scripts").normalize();
    private static final List<String> STUBS = List.of("getent", "addgroup", "adduser", "groupadd", "useradd",
            "install", "userdel", "groupdel", "rm", "systemctl");

    @TempDir
    Path tmp;

    private Path log;

    @BeforeEach
    void stubEveryCommand() throws IOException {
        assumeFalse(Files.isDirectory(Path.of("/run/systemd/system")),
                "SKIPPED: systemd runs here, and the scripts would call the real systemctl through its check");
        assumeFalse(Files.exists(Path.of("/var/lib/tollgate")), "SKIPPED: /var/lib/tollgate exists on this machine");
        log = tmp.resolve("calls.log");
        Files.createFile(log);
        Path bin = Files.createDirectory(tmp.resolve("bin"));
        for (String command : STUBS) {
            // getent answers as $GETENT_EXIT says: 2 = no such user or group, 0 = it exists
            String exit = command.equals("getent") ? "exit ${GETENT_EXIT:-2}" : "exit 0";
            Path stub = bin.resolve(command);
            Files.writeString(stub, "#!/bin/sh\necho \"" + command + " $*\" >> '" + log + "'\n" + exit + "\n");
            Files.setPosixFilePermissions(stub, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void rpmFirstInstallMakesGroupUserAndStateDirectory() throws IOException {
        run("postinst", "2", "1");

        assertCalls(
                "getent group tollgate",
                "groupadd --system tollgate",
                "getent passwd tollgate",
                "useradd --system --gid tollgate --no-create-home --home-dir /nonexistent --shell /sbin/nologin"
                        + " --comment Tollgate proxy tollgate",
                "install -d -o tollgate -g tollgate -m 0750 /var/lib/tollgate");
    }

    @Test
    void rpmUpgradeWithUserPresentCreatesNothingAndChownsNothing() throws IOException {
        run("postinst", "0", "2");

        assertCalls("getent group tollgate", "getent passwd tollgate",
                "install -d -o tollgate -g tollgate -m 0750 /var/lib/tollgate");
    }

    @Test
    void rpmEraseAndUpgradeKeepUserStateAndConfig() throws IOException {
        for (String script : List.of("prerm", "postrm")) {
            run(script, "0", "0");
            run(script, "0", "1");
        }

        assertCalls();
    }

    @Test
    void debFirstInstallUsesAdduser() throws IOException {
        run("postinst", "2", "configure", "");

        assertCalls(
                "getent group tollgate",
                "addgroup --system --quiet tollgate",
                "getent passwd tollgate",
                "adduser --system --quiet --ingroup tollgate --no-create-home --home /nonexistent"
                        + " --shell /usr/sbin/nologin --gecos Tollgate proxy tollgate",
                "install -d -o tollgate -g tollgate -m 0750 /var/lib/tollgate");
    }

    @Test
    void debRemoveKeepsEverythingAndPurgeRemovesUserGroupStateAndConfig() throws IOException {
        run("prerm", "0", "remove");
        run("postrm", "0", "remove");
        assertCalls();

        run("postrm", "0", "purge");
        assertCalls(
                "rm -f /etc/systemd/system/*.wants/tollgate.service",
                "rm -rf /var/lib/tollgate /var/log/tollgate /etc/tollgate",
                "getent passwd tollgate",
                "userdel tollgate",
                "getent group tollgate",
                "groupdel tollgate");
    }

    @Test
    void debUpgradeAndErrorUnwindingCasesDoNothing() throws IOException {
        run("prerm", "0", "upgrade", "9.9");
        run("prerm", "0", "failed-upgrade", "9.9");
        run("prerm", "0", "deconfigure");
        for (String arg : List.of("upgrade", "failed-upgrade", "abort-install", "abort-upgrade", "disappear")) {
            run("postrm", "0", arg);
        }
        for (String arg : List.of("abort-upgrade", "abort-remove", "abort-deconfigure")) {
            run("postinst", "0", arg);
        }

        assertCalls();
    }

    @Test
    void everyScriptRefusesAnUnknownArgumentBeforeDoingAnything() throws IOException {
        for (String script : List.of("postinst", "prerm", "postrm")) {
            Command result = script(script, "0", "no-such-case");

            assertEquals(1, result.exitCode(), result::toString);
            assertTrue(result.stderr().contains("unknown argument 'no-such-case'"), result::toString);
        }
        assertCalls();
    }

    private void run(String script, String getentExit, String... args) {
        script(script, getentExit, args).assertOk();
    }

    private Command script(String script, String getentExit, String... args) {
        List<String> argv = new java.util.ArrayList<>(List.of("/bin/sh", SCRIPTS.resolve(script).toString()));
        argv.addAll(List.of(args));
        return Command.run(Map.of("PATH", tmp.resolve("bin").toString(), "GETENT_EXIT", getentExit), argv);
    }

    private void assertCalls(String... expected) throws IOException {
        assertEquals(List.of(expected), Files.readAllLines(log));
        Files.writeString(log, "");
    }
}
