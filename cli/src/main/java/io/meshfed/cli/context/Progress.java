package io.meshfed.cli.context;

import java.io.PrintWriter;

/** The numbered step lines of a long command ({@code [2/6] what                 result}), flushed one by one. */
public final class Progress {
    private final PrintWriter out;
    private int step;
    private int steps;

    public Progress(PrintWriter out) {
        this.out = out;
    }

    /** How many steps the lines count to. */
    public void steps(int total) {
        steps = total;
    }

    public void line(String what, String result) {
        out.printf("[%d/%d] %-52s %s%n", ++step, steps, what, result);
        out.flush();
    }
}
