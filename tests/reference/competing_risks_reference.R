# Reference values for analysis/competing_risks.py and analysis/descriptive.py.
#
# Run from the repository root:  Rscript tests/reference/competing_risks_reference.R
# Writes tests/reference/competing_risks_reference.json and the datasets it used
# to tests/reference/data/cr_*.csv, so the Python tests run without R.
#
# Sources of truth: cmprsk::cuminc / cmprsk::timepoints (Aalen-Johansen
# cumulative incidence, Aalen-type variance, Gray's test with rho = 0),
# stats::binom.test (Clopper-Pearson), stats::prop.test(correct = FALSE)
# (Wilson score) and stats::quantile(type = 7).
suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(jsonlite)
})

out_dir <- file.path("tests", "reference")
data_dir <- file.path(out_dir, "data")
dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)

# NA -> JSON null, everything else a plain number.
num <- function(x) lapply(as.numeric(x), function(v) if (is.na(v)) NULL else v)

# cmprsk reports CIs nowhere; the customary log(-log) interval, computed here from
# its estimate and variance, is what the Python module documents.
loglog_ci <- function(est, var, conf_level) {
  z <- qnorm(1 - (1 - conf_level) / 2)
  # Undefined where the incidence is 0 or 1: NA, as survfit's multi-state CI
  # at zero incidence (see zero_incidence below).
  inside <- !is.na(est) & est > 0 & est < 1
  lower <- rep(NA_real_, length(est))
  upper <- rep(NA_real_, length(est))
  lower[inside] <- est[inside]^exp(-z * sqrt(var[inside]) / (est[inside] * log(est[inside])))
  upper[inside] <- est[inside]^exp(z * sqrt(var[inside]) / (est[inside] * log(est[inside])))
  list(lower = lower, upper = upper)
}

cuminc_case <- function(name, d, csv, group_col, times, conf_level = 0.95) {
  write.csv(d, file.path(data_dir, csv), row.names = FALSE)
  fit <- if (is.null(group_col)) {
    cuminc(d$time, d$status)
  } else {
    cuminc(d$time, d$status, d[[group_col]])
  }
  tp <- timepoints(fit, times)
  curves <- list()
  for (curve in setdiff(names(fit), "Tests")) {
    ci <- loglog_ci(tp$est[curve, ], tp$var[curve, ], conf_level)
    curves[[curve]] <- list(
      corners = list(time = num(fit[[curve]]$time), est = num(fit[[curve]]$est),
                     var = num(fit[[curve]]$var)),
      at = list(est = num(tp$est[curve, ]), var = num(tp$var[curve, ]),
                lower = num(ci$lower), upper = num(ci$upper))
    )
  }
  tests <- NULL
  if (!is.null(fit$Tests)) {
    tests <- lapply(rownames(fit$Tests), function(cause) list(
      cause = as.integer(cause), stat = fit$Tests[cause, "stat"],
      p = fit$Tests[cause, "pv"], df = as.integer(fit$Tests[cause, "df"])))
  }
  list(name = name, csv = csv, group_col = group_col,
       groups = if (is.null(group_col)) NULL else levels(as.factor(d[[group_col]])),
       conf_level = conf_level, times = num(sort(unique(times))),
       curves = curves, tests = tests)
}

# 1. survival::mgus2, progression to plasma-cell malignancy (1) vs death (2), months;
#    the event coding of the survival package's competing-risks vignette.
m <- survival::mgus2
mgus <- data.frame(
  time = ifelse(m$pstat == 0, m$futime, m$ptime),
  status = ifelse(m$pstat == 0, 2 * m$death, 1),
  sex = as.character(m$sex),
  age_group = as.character(cut(m$age, c(-Inf, 60, 75, Inf), right = FALSE,
                               labels = c("under60", "60to74", "75plus")))
)
mgus_times <- c(0, 12, 60, 120, 240, 360, 400, 424, 500)

# 2. Small hand-made data: ties across causes and with censoring, an event of
#    interest and a competing event at time 0, group C without any event of interest.
small <- data.frame(
  time = c(0, 2, 2, 2, 3, 5, 5, 7, 8, 10,
           0, 1, 3, 3, 4, 6, 6, 9, 9, 12,
           1, 2, 4, 5, 8, 11),
  status = c(1, 1, 2, 0, 1, 0, 1, 2, 1, 0,
             2, 1, 1, 1, 2, 0, 2, 1, 0, 0,
             2, 0, 2, 0, 2, 0),
  group = c(rep("A", 10), rep("B", 10), rep("C", 6))
)
small_times <- c(0, 0.5, 1, 2, 2.5, 5, 9, 10, 11, 12, 13)

# 3. Everyone fails, the last time by the event of interest (the KM of any event reaches 0).
allfail <- data.frame(time = c(1, 2, 2, 3, 3), status = c(1, 2, 1, 1, 1))

cases <- list(
  cuminc_case("mgus2_overall", mgus[, c("time", "status")], "cr_mgus2_overall.csv", NULL, mgus_times),
  cuminc_case("mgus2_by_sex", mgus[, c("time", "status", "sex")], "cr_mgus2_sex.csv", "sex", mgus_times),
  cuminc_case("mgus2_by_age_group", mgus[, c("time", "status", "age_group")], "cr_mgus2_age.csv",
              "age_group", mgus_times, conf_level = 0.90),
  cuminc_case("small_by_group", small, "cr_small.csv", "group", small_times),
  cuminc_case("small_two_groups", small[small$group != "C", ], "cr_small_two.csv", "group", small_times),
  cuminc_case("all_fail", allfail, "cr_allfail.csv", NULL, c(0, 1, 2, 2.5, 3, 4))
)

# survfit's multi-state (Aalen-Johansen) CI where the incidence is 0 after the
# first time (a competing event at 1, the first event of interest at 2): NA.
zero_fit <- survfit(Surv(time, factor(status, 0:2)) ~ 1,
                    data = data.frame(time = c(1, 2, 3, 4, 5), status = c(2, 1, 0, 1, 0)))
zero_summary <- summary(zero_fit, times = 1.5)
zero_incidence <- list(time = 1.5, estimate = unname(zero_summary$pstate[, 2]),
                       lower = num(zero_summary$lower[, 2]), upper = num(zero_summary$upper[, 2]))

# Exact (Clopper-Pearson) and Wilson score intervals for a proportion.
prop_cases <- list(c(0, 10), c(10, 10), c(1, 27), c(13, 26), c(21, 27), c(5, 18),
                   c(0, 1), c(1, 1), c(19, 27), c(500, 1000))
proportions <- list()
for (conf_level in c(0.95, 0.90)) {
  for (xn in prop_cases) {
    b <- binom.test(xn[1], xn[2], conf.level = conf_level)$conf.int
    # prop.test warns that the chi-square p may be inaccurate; only its CI is used.
    w <- suppressWarnings(
      prop.test(xn[1], xn[2], correct = FALSE, conf.level = conf_level)$conf.int)
    proportions[[length(proportions) + 1]] <- list(
      count = xn[1], n = xn[2], conf_level = conf_level,
      clopper_pearson = c(b[1], b[2]), wilson = c(w[1], w[2]))
  }
}

# quantile(type = 7) summaries, missing values dropped.
summary_inputs <- list(
  c(3.1, 7.4, 1.2, 17.8, 9.6, 11.0, 4.4),
  c(2, 8, 5, 1, NA, 13, 21, NA, 3),
  c(42),
  c(1, 2),
  c(0.5, 0.5, 0.5, 4, 4, 10.25)
)
summaries <- lapply(summary_inputs, function(x) {
  y <- x[!is.na(x)]
  q <- quantile(y, c(0.25, 0.5, 0.75), type = 7, names = FALSE)
  list(x = num(x), n = length(y), missing = sum(is.na(x)), q1 = q[1], median = q[2],
       q3 = q[3], minimum = min(y), maximum = max(y), mean = mean(y),
       sd = if (length(y) > 1) sd(y) else NULL)
})

write_json(
  list(
    generated_by = "tests/reference/competing_risks_reference.R",
    r_version = R.version.string,
    cmprsk_version = as.character(packageVersion("cmprsk")),
    survival_version = as.character(packageVersion("survival")),
    cuminc = cases, zero_incidence = zero_incidence, proportions = proportions, summaries = summaries
  ),
  file.path(out_dir, "competing_risks_reference.json"),
  auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"
)
cat("wrote", file.path(out_dir, "competing_risks_reference.json"), "\n")
