// Validation-loss curves of a sweep's runs with gnuplot: one line per run (sharing scheme),
// against training tokens and against wall time, each as PNG (pngcairo) and SVG. The .dat and
// .gp files are kept beside the images so a figure can be restyled by hand.
#pragma once

#include <string>
#include <vector>

#include "runner/store/results_store.h"

namespace sharelab::analysis {

struct PlotOptions {
  std::string sweep;  // "" = every run in the database
  std::string out_dir = "results/plots";
  std::string gnuplot = "gnuplot";  // executable
};

// True when `gnuplot --version` runs.
bool gnuplot_available(const std::string& exe);

// Writes <out>/val_loss_<sweep>_{tokens,wall}.{png,svg}; returns their paths. A run without
// validation points is left out (and named on stderr); no run with any -> ConfigError.
std::vector<std::string> plot_validation(store::ResultsStore& db, const PlotOptions& opt);

}  // namespace sharelab::analysis
