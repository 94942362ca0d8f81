package io.meshfed.controller.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.controller.store.sqlite.SqliteStore;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteStoreTest extends StoreContract {
    @TempDir
    Path dir;

    @Override
    protected Store newStore() {
        return SqliteStore.open(dir.resolve("state.db"));
    }

    @Override
    protected Store newStoreRetaining(long retainedChanges) {
        return SqliteStore.open(dir.resolve("small.db"), retainedChanges);
    }

    @Override
    protected Store reopen() {
        return SqliteStore.open(dir.resolve("state.db"));
    }

    @Override
    protected Store openSecondHandle() {
        return SqliteStore.open(dir.resolve("state.db"));
    }

    @Override
    protected boolean sharesDatabase() {
        return false;
    }

    @Test
    void theLockGoesWithTheHandleAndAnotherProcessIsRefusedWhileItIsHeld() throws Exception {
        store.put("Member", "east", "{}", StoreTransaction.ABSENT);
        // Another process: the lock is the operating system's, not this JVM's.
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), StoreWriterMain.class.getName(),
                dir.resolve("state.db").toString()).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).isNotZero();
        assertThat(out).contains("is in use by another controller").doesNotContain("ACK ");
        store.close();
        store = SqliteStore.open(dir.resolve("state.db")); // closed: the lock is free again
        assertThat(store.get("Member", "east")).isPresent();
    }

    @Test
    void aFileThatIsNotADatabaseIsAClearError() throws Exception {
        Path bad = dir.resolve("not-a-db.db");
        Files.writeString(bad, "this is not sqlite, just text that is long enough to look like a header".repeat(20));
        assertThatThrownBy(() -> SqliteStore.open(bad)).isInstanceOf(StoreException.class)
                .hasMessageContaining("cannot open the store " + bad);
    }

    /**
     * kill -9 of a process in the middle of writing loses nothing it had acknowledged: a child JVM writes and prints
     * each revision after its commit returned; it is killed without warning; everything it printed is in the file.
     */
    @Test
    void killMinusNineLosesNothingAcknowledged() throws Exception {
        Path db = dir.resolve("crash.db");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), StoreWriterMain.class.getName(), db.toString())
                .redirectErrorStream(true).start();
        List<Long> acknowledged = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("ACK ")) {
                    acknowledged.add(Long.parseLong(line.substring(4)));
                    if (acknowledged.size() == 300) {
                        child.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no close
                        break;
                    }
                }
            }
        } finally {
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(acknowledged).hasSize(300);
        try (Store reopened = SqliteStore.open(db)) {
            for (long n : acknowledged) {
                assertThat(reopened.get("Item", "item-" + n)).as("item-" + n).isPresent();
            }
            assertThat(reopened.revision()).isGreaterThanOrEqualTo(acknowledged.get(acknowledged.size() - 1));
            // The store is consistent: the change log and the revision agree.
            assertThat(reopened.changesSince(0, Integer.MAX_VALUE)).hasSize((int) reopened.revision());
        }
    }
}
