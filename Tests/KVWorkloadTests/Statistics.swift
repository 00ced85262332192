import Foundation
@testable import KVWorkload

/// Goodness-of-fit helpers for the generator law tests (no external stats library).
enum Statistics {
    /// Pearson's chi-square statistic and degrees of freedom for observed counts against
    /// expected probabilities; cells whose expected count is below 5 are pooled (adjacent, in
    /// the given order) so the chi-square approximation holds.
    static func chiSquare(observed: [Int], probabilities: [Double]) -> (statistic: Double, degreesOfFreedom: Int) {
        precondition(observed.count == probabilities.count)
        let total = Double(observed.reduce(0, +))
        var cells: [(o: Double, e: Double)] = []
        var pendingO = 0.0, pendingE = 0.0
        for (o, p) in zip(observed, probabilities) {
            pendingO += Double(o)
            pendingE += p * total
            if pendingE >= 5 {
                cells.append((pendingO, pendingE))
                pendingO = 0
                pendingE = 0
            }
        }
        if pendingE > 0 || pendingO > 0 {
            if cells.isEmpty { cells.append((pendingO, pendingE)) } else {
                cells[cells.count - 1].o += pendingO
                cells[cells.count - 1].e += pendingE
            }
        }
        var statistic = 0.0
        for cell in cells {
            if cell.e == 0 { statistic += cell.o > 0 ? .infinity : 0; continue }
            statistic += (cell.o - cell.e) * (cell.o - cell.e) / cell.e
        }
        return (statistic, max(cells.count - 1, 1))
    }

    /// Upper-tail p-value of a chi-square statistic with `k` degrees of freedom, using the
    /// Wilson–Hilferty cube-root normal approximation (good to ~1e-3 relative for k ≥ 3).
    static func chiSquarePValue(_ statistic: Double, degreesOfFreedom k: Int) -> Double {
        if statistic.isInfinite { return 0 }
        let kd = Double(k)
        let z = (pow(statistic / kd, 1.0 / 3.0) - (1 - 2 / (9 * kd))) / sqrt(2 / (9 * kd))
        return 0.5 * erfc(z / sqrt(2))
    }

    /// p-value of observed counts against the law.
    static func pValue(observed: [Int], probabilities: [Double]) -> Double {
        let (x, k) = chiSquare(observed: observed, probabilities: probabilities)
        return chiSquarePValue(x, degreesOfFreedom: k)
    }

    /// Counts of draws in 0..<cells (draws outside are ignored and reported).
    static func histogram(cells: Int, draws: Int, _ draw: () -> Int64) -> (counts: [Int], outside: Int) {
        var counts = [Int](repeating: 0, count: cells)
        var outside = 0
        for _ in 0..<draws {
            let v = draw()
            if v >= 0 && v < Int64(cells) { counts[Int(v)] += 1 } else { outside += 1 }
        }
        return (counts, outside)
    }

    static func uniform(_ n: Int) -> [Double] { [Double](repeating: 1 / Double(n), count: n) }
}
