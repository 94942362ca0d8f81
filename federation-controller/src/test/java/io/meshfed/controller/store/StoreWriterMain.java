package io.meshfed.controller.store;

import io.meshfed.controller.store.sqlite.SqliteStore;
import java.nio.file.Path;

/** Child process of the crash test: writes forever, printing each revision once its commit returned. */
public final class StoreWriterMain {
    private StoreWriterMain() {}

    public static void main(String[] args) {
        Store store = SqliteStore.open(Path.of(args[0]));
        for (long n = 1; ; n++) {
            store.put("Item", "item-" + n, "{\"n\":" + n + ",\"pad\":\"" + "x".repeat(200) + "\"}",
                    StoreTransaction.ANY);
            System.out.println("ACK " + n);
            System.out.flush();
        }
    }
}
