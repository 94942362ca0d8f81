package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The controller's packages depend on each other in one direction: no package reaches back, directly or through
 * others, to one that depends on it. A dependency is any reference to a class of another controller package in the
 * main sources: an import or a qualified name in the code.
 */
class PackageCyclesTest {
    private static final Path SOURCES = Path.of("src/main/java");
    private static final String ROOT = "io.meshfed.controller";
    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
    /** A qualified class name: the package (lowercase parts) then a class (an uppercase part). */
    private static final Pattern REFERENCE = Pattern.compile("\\b(io\\.meshfed\\.controller(?:\\.[a-z]\\w*)*)\\.[A-Z]");

    @Test
    void noControllerPackageDependsOnItselfThroughOthers() {
        Map<String, Set<String>> dependencies = dependencies();
        assertThat(dependencies).as("the main sources were found and read").containsKey(ROOT + ".store");
        List<String> cycles = new ArrayList<>();
        for (String from : dependencies.keySet()) {
            List<String> path = pathBack(from, dependencies);
            if (path != null) {
                cycles.add(String.join(" -> ", path));
            }
        }
        assertThat(cycles).as("package cycles").isEmpty();
    }

    @Test
    void theCheckFindsACycle() {
        Map<String, Set<String>> cyclic = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d",
                Set.of("a"));
        assertThat(pathBack("a", cyclic)).containsExactly("a", "b", "c", "a");
        assertThat(pathBack("d", cyclic)).isNull();
    }

    /** A path of dependencies from {@code start} back to itself, or null when there is none. */
    static List<String> pathBack(String start, Map<String, Set<String>> dependencies) {
        List<String> path = new ArrayList<>(List.of(start));
        return search(start, start, dependencies, path, new TreeSet<>()) ? path : null;
    }

    private static boolean search(String start, String at, Map<String, Set<String>> dependencies, List<String> path,
            Set<String> visited) {
        for (String next : dependencies.getOrDefault(at, Set.of())) {
            path.add(next);
            if (next.equals(start) || visited.add(next) && search(start, next, dependencies, path, visited)) {
                return true;
            }
            path.remove(path.size() - 1);
        }
        return false;
    }

    /** Each controller package's dependencies on the other controller packages. */
    private static Map<String, Set<String>> dependencies() {
        Map<String, Set<String>> dependencies = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES.resolve(ROOT.replace('.', '/')))) {
            files.filter(f -> f.toString().endsWith(".java")).forEach(f -> {
                String source = read(f);
                Matcher pkg = PACKAGE.matcher(source);
                if (!pkg.find()) {
                    return;
                }
                Set<String> used = dependencies.computeIfAbsent(pkg.group(1), p -> new TreeSet<>());
                Matcher ref = REFERENCE.matcher(source.substring(pkg.end()));
                while (ref.find()) {
                    if (!ref.group(1).equals(pkg.group(1))) {
                        used.add(ref.group(1));
                    }
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dependencies;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
