package io.meshfed.cli;

import io.meshfed.cli.context.CliContext;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import picocli.CommandLine;

/**
 * Picocli's factory for meshfed: a class with a constructor taking a {@link CliContext} (a command, a mixin) is
 * built with the run's context; every other class (argument groups, converters, the version provider) by
 * picocli's default factory.
 */
final class CliFactory implements CommandLine.IFactory {
    private final CliContext context;
    private final CommandLine.IFactory fallback = CommandLine.defaultFactory();

    CliFactory(CliContext context) {
        this.context = context;
    }

    @Override
    public <K> K create(Class<K> cls) throws Exception {
        Constructor<K> withContext;
        try {
            withContext = cls.getDeclaredConstructor(CliContext.class);
        } catch (NoSuchMethodException none) {
            return fallback.create(cls);
        }
        withContext.setAccessible(true);
        try {
            return withContext.newInstance(context);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }
}
