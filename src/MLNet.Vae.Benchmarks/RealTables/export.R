# Exports the twelve data frames of the real-table development suite from Debian's R data packages, as they are, to
# <folder>/<package>_<name>.csv (write.csv: factors as their labels, no row names, NA as an empty cell).
# Run by setup-real-tables.sh; build_real_tables.py turns them into the suite.
args <- commandArgs(trailingOnly = TRUE)
folder <- args[1]
dir.create(folder, showWarnings = FALSE, recursive = TRUE)
sets <- list(
  c("ddalpha", "vertebral_column"), c("ddalpha", "heart"), c("ddalpha", "indian_liver_patient_1vs2"), c("gclus", "body"),
  c("modeldata", "cells"), c("caret", "dhfr"), c("caret", "GermanCredit"), c("modeldata", "lending_club"),
  c("modeldata", "mlc_churn"), c("modeldata", "hpc_data"), c("AER", "CPS1988"), c("AER", "HMDA"))
for (set in sets) {
  # package = every time: ddalpha's heart (Statlog) shares its name with another package's.
  e <- new.env()
  data(list = set[2], package = set[1], envir = e)
  d <- as.data.frame(get(set[2], envir = e))
  write.csv(d, file.path(folder, paste0(set[1], "_", set[2], ".csv")), row.names = FALSE, na = "")
  cat(set[1], set[2], nrow(d), "rows", ncol(d), "columns\n")
}
