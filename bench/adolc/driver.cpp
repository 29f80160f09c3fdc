// ADOL-C side of the benchmark harness: W1 (rosenbrock_grad) and W2
// (tape_stress), printing one JSON object per line like chainrule-bench.
// Usage: adolc-driver [--quick|--tiny] W1 | W2
#include <adolc/adolc.h>
#include <adolc/taping.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

using clock_type = std::chrono::steady_clock;

static double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

static std::vector<double> point(size_t n) {
    std::vector<double> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = 0.5 + 0.3 * std::sin(static_cast<double>(i) * 0.37);
    return x;
}

template <typename T>
static T rosenbrock(const T* x, size_t n) {
    T acc = 0.0;
    for (size_t i = 0; i + 1 < n; ++i) {
        T a = x[i + 1] - x[i] * x[i];
        T b = 1.0 - x[i];
        acc = acc + 100.0 * a * a + b * b;
    }
    return acc;
}

static void rosenbrock_adjoint(const std::vector<double>& x, std::vector<double>& g) {
    std::fill(g.begin(), g.end(), 0.0);
    for (size_t i = 0; i + 1 < x.size(); ++i) {
        double a = x[i + 1] - x[i] * x[i];
        double b = 1.0 - x[i];
        g[i] += -400.0 * a * x[i] - 2.0 * b;
        g[i + 1] += 200.0 * a;
    }
}

template <typename T>
static T tape_stress(const T* x, size_t m, size_t steps) {
    T y = x[0];
    for (size_t k = 0; k < steps; ++k) {
        T a = x[k % m];
        y = sin(y * a) + exp(-(y * y)) * 0.5;
    }
    return y;
}

struct Budget {
    int runs;
    double min_run;
};

// Median seconds per call of `call`, after one warm-up that calibrates repetitions.
template <typename F>
static double measure(Budget budget, F call) {
    auto start = clock_type::now();
    call();
    double once = std::max(seconds_since(start), 2e-8);
    long reps = std::max(1L, static_cast<long>(std::ceil(budget.min_run / once)));
    std::vector<double> samples;
    for (int r = 0; r < budget.runs; ++r) {
        start = clock_type::now();
        for (long k = 0; k < reps; ++k) call();
        samples.push_back(seconds_since(start) / reps);
    }
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2];
}

static double max_relative_error(const std::vector<double>& a, const std::vector<double>& b) {
    double worst = 0.0;
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]) / std::max(1.0, std::fabs(b[i])));
    return worst;
}

static void record(const char* workload, size_t n, const char* system, double median, int runs, double ops,
                   double bytes_per_op = -1, double peak_mb = -1, const std::string& note = "") {
    std::printf("{\"workload\": \"%s\", \"n\": %zu, \"system\": \"%s\", \"median_s\": %.6e, \"runs\": %d", workload, n, system,
                median, runs);
    if (ops > 0) std::printf(", \"ns_per_op\": %.3f", median * 1e9 / ops);
    if (bytes_per_op >= 0) std::printf(", \"bytes_per_op\": %.2f", bytes_per_op);
    if (peak_mb >= 0) std::printf(", \"peak_rss_mb\": %.1f", peak_mb);
    if (!note.empty()) std::printf(", \"note\": \"%s\"", note.c_str());
    std::printf("}\n");
    std::fflush(stdout);
}

static void rss_mb(double& current, double& peak) {
    std::ifstream status("/proc/self/status");
    std::string line;
    current = peak = -1;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) current = std::stod(line.substr(6)) / 1024.0;
        if (line.rfind("VmHWM:", 0) == 0) peak = std::stod(line.substr(6)) / 1024.0;
    }
}

static void w1(Budget budget, const std::vector<size_t>& sizes) {
    for (size_t n : sizes) {
        std::vector<double> x = point(n), g(n), reference(n);
        rosenbrock_adjoint(x, reference);
        double ops = 8.0 * static_cast<double>(n - 1);
        auto tape = [&](short tag) {
            trace_on(tag);
            std::vector<adouble> ax(n);
            for (size_t i = 0; i < n; ++i) ax[i] <<= x[i];
            adouble y = rosenbrock(ax.data(), n);
            double value;
            y >>= value;
            trace_off();
        };
        // ADOL-C's usual pattern: tape once, then gradient() re-evaluates the tape.
        tape(1);
        gradient(1, static_cast<int>(n), x.data(), g.data());
        if (max_relative_error(g, reference) > 1e-10) {
            std::fprintf(stderr, "adolc gradient differs from the reference at n=%zu: not timed\n", n);
            std::exit(1);
        }
        double t = measure(budget, [&] { gradient(1, static_cast<int>(n), x.data(), g.data()); });
        record("rosenbrock_grad", n, "adolc", t, budget.runs, ops, -1, -1, "tape recorded once, gradient() per call");
        // Taping anew at each call, as chainrule and echidna do.
        double r = measure(budget, [&] {
            tape(2);
            gradient(2, static_cast<int>(n), x.data(), g.data());
        });
        record("rosenbrock_grad", n, "adolc-retape", r, budget.runs, ops);
    }
}

static void w2(Budget budget, size_t target_ops) {
    const size_t steps = target_ops / 7, m = 16;
    const double ops = static_cast<double>(steps * 7);
    std::vector<double> x = point(m), g(m);
    double before, peak;
    rss_mb(before, peak);
    std::vector<double> record_times, backward_times;
    size_t tape_bytes = 0;
    for (int run = 0; run <= budget.runs; ++run) {
        auto t0 = clock_type::now();
        trace_on(3, 1);  // keep the Taylor values for an immediate reverse sweep
        std::vector<adouble> ax(m);
        for (size_t i = 0; i < m; ++i) ax[i] <<= x[i];
        adouble y = tape_stress(ax.data(), m, steps);
        double value;
        y >>= value;
        trace_off();
        double recorded = seconds_since(t0);
        double weight = 1.0;
        auto t1 = clock_type::now();
        fos_reverse(3, 1, static_cast<int>(m), &weight, g.data());
        double backward = seconds_since(t1);
        if (run > 0) {
            record_times.push_back(recorded);
            backward_times.push_back(backward);
        }
        size_t counts[STAT_SIZE];
        tapestats(3, counts);
        // operations (1 byte each), locations (locint), values (double)
        tape_bytes = counts[NUM_OPERATIONS] + counts[NUM_LOCATIONS] * sizeof(locint) + counts[NUM_VALUES] * sizeof(double);
    }
    double after;
    rss_mb(after, peak);
    std::sort(record_times.begin(), record_times.end());
    std::sort(backward_times.begin(), backward_times.end());
    double rec = record_times[record_times.size() / 2], back = backward_times[backward_times.size() / 2];
    char note[128];
    std::snprintf(note, sizeof note, "tape from tapestats: %.2f bytes per operation", tape_bytes / ops);
    size_t n = static_cast<size_t>(ops);
    record("tape_stress_record", n, "adolc", rec, budget.runs, ops);
    record("tape_stress_backward", n, "adolc", back, budget.runs, ops);
    (void)after;
    record("tape_stress_total", n, "adolc", rec + back, budget.runs, ops, (peak - before) * 1048576.0 / ops, peak, note);
}

int main(int argc, char** argv) {
    bool quick = false, tiny = false;
    std::string which;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--quick")) quick = true;
        else if (!std::strcmp(argv[i], "--tiny")) tiny = true;
        else which = argv[i];
    }
    Budget budget = tiny ? Budget{1, 0.001} : quick ? Budget{5, 0.02} : Budget{7, 0.1};
    if (which == "W1") {
        std::vector<size_t> sizes = tiny ? std::vector<size_t>{100}
                                  : quick ? std::vector<size_t>{100, 1000, 10000, 100000}
                                          : std::vector<size_t>{100, 1000, 10000, 100000, 1000000};
        w1(budget, sizes);
    } else if (which == "W2") {
        w2(budget, tiny ? 100000 : 10000000);
    } else {
        std::fprintf(stderr, "usage: adolc-driver [--quick|--tiny] W1|W2\n");
        return 2;
    }
    return 0;
}
