# Reference values for the methods of issue 16: Cox models on counting-process
# data and with several covariates (analysis/cox.py), landmark analysis and a
# time-dependent Cox model on the example cohort (analysis/study.py).
#
# Run from the repository root:  Rscript tests/reference/methods_reference.R
# Writes tests/reference/methods_reference.json and the datasets it uses to
# tests/reference/data/, so tests/test_methods.py runs without R.
# Needs R >= 4.2 with survival (3.5-3), cmprsk (2.2-11) and jsonlite. Deterministic.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(jsonlite)
})

out_dir <- file.path("tests", "reference")
data_dir <- file.path(out_dir, "data")
dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)
na_to_null <- function(x) if (length(x) == 0 || is.na(x)) NULL else x

# --------------------------------------------------------------- Cox models ---

# survival::heart (Stanford heart transplant), counting-process rows:
# transplant switches on at the transplant, as tmerge builds it.
heart_df <- data.frame(id = heart$id, start = heart$start, stop = heart$stop, event = heart$event,
                       transplant = as.integer(as.character(heart$transplant)), age = heart$age,
                       surgery = heart$surgery)
write.csv(heart_df, file.path(data_dir, "heart.csv"), row.names = FALSE)

# lung with ECOG as a category against ECOG 0 (the reference level), sex female vs male.
lung_df <- read.csv(file.path(data_dir, "lung.csv"))
lung_cc <- lung_df[!is.na(lung_df$ph_ecog), ]
lung_cc$ecog <- factor(ifelse(lung_cc$ph_ecog >= 2, "2+", as.character(lung_cc$ph_ecog)), levels = c("0", "1", "2+"))
lung_cc$female <- as.integer(lung_cc$sex == 2)

model_entry <- function(name, fit, covariates) {
  s <- summary(fit, conf.int = 0.95)
  cc <- concordance(fit)
  df <- length(coef(fit))
  test <- function(statistic, df) unname(c(statistic, df, pchisq(statistic, df, lower.tail = FALSE)))
  list(name = name, covariates = covariates, ties = fit$method, n = fit$n, events = fit$nevent,
       coef = unname(coef(fit)), se = unname(sqrt(diag(vcov(fit)))),
       hazard_ratio = unname(s$conf.int[, "exp(coef)"]),
       lower = unname(s$conf.int[, "lower .95"]), upper = unname(s$conf.int[, "upper .95"]),
       p = unname(s$coefficients[, "Pr(>|z|)"]),
       loglik = unname(fit$loglik),
       # summary(coxph) rounds the Wald and score tests for printing: the unrounded statistics.
       likelihood_ratio = test(2 * diff(fit$loglik), df), wald = test(fit$wald.test, df),
       score = test(fit$score, df),
       concordance = unname(cc$concordance))
}

models <- list()
for (ties in c("efron", "breslow")) {
  models[[length(models) + 1]] <- model_entry(
    paste0("heart-", ties),
    coxph(Surv(start, stop, event) ~ transplant + age + surgery, data = heart_df, ties = ties),
    c("transplant", "age", "surgery"))
  models[[length(models) + 1]] <- model_entry(
    paste0("lung-", ties),
    coxph(Surv(time, status) ~ female + ecog + age, data = lung_cc, ties = ties),
    c("female", "ecog=1", "ecog=2+", "age"))
}

# cox.zph (transform "km", terms = TRUE): per-term and global chi-square, df, p.
zph_entry <- function(name, fit) {
  z <- cox.zph(fit)
  list(name = name, terms = rownames(z$table), chisq = unname(z$table[, "chisq"]),
       df = unname(z$table[, "df"]), p = unname(z$table[, "p"]))
}
zph <- list()
for (ties in c("efron", "breslow")) {
  zph[[length(zph) + 1]] <- zph_entry(
    paste0("heart-", ties),
    coxph(Surv(start, stop, event) ~ transplant + age + surgery, data = heart_df, ties = ties))
  zph[[length(zph) + 1]] <- zph_entry(
    paste0("lung-", ties), coxph(Surv(time, status) ~ female + ecog + age, data = lung_cc, ties = ties))
}

# Simon-Makuch: survfit on counting-process rows by the time-dependent group
# (here heart's transplant), per group: time, n.risk, n.event, n.censor, surv.
sm_entry <- function(name, fit) {
  group <- rep(seq_along(fit$strata), fit$strata)
  lapply(seq_along(fit$strata), function(k) {
    i <- group == k
    list(name = name, group = names(fit$strata)[k], time = fit$time[i], n_risk = fit$n.risk[i],
         n_event = fit$n.event[i], n_censor = fit$n.censor[i], surv = fit$surv[i])
  })
}
simon_makuch <- list(heart = sm_entry("heart", survfit(Surv(start, stop, event) ~ transplant, data = heart_df)))

# ------------------------------- restricted mean survival time, fixed time ---
# RMST per group: print(survfit, rmean = tau), i.e. summary(survfit, rmean = tau)$table
# (survRM2 is not installed). Between groups as survRM2::rmst2 (Uno et al.,
# J Clin Oncol 2014; rmst2's source, "unadjusted" branch):
#   difference  d = rmst1 - rmst0,  se(d) = sqrt(se1^2 + se0^2),  d -/+ z se(d),  p = 2 pnorm(-|d / se(d)|)
#   ratio       r = log(rmst1 / rmst0),  se(r) = sqrt(se1^2 / rmst1^2 + se0^2 / rmst0^2),  exp(r -/+ z se(r))
gehan_df <- read.csv(file.path(data_dir, "gehan.csv"))
rmst_entry <- function(name, d, group_col, reference, tau) {
  d$g <- d[[group_col]]
  fit <- survfit(Surv(time, status) ~ g, data = d)
  table <- summary(fit, rmean = tau)$table
  levels <- sub("^g=", "", rownames(table))
  z <- qnorm(0.975)
  one <- table[levels != reference, ]
  zero <- table[levels == reference, ]
  rm1 <- unname(one["rmean"]); se1 <- unname(one["se(rmean)"])
  rm0 <- unname(zero["rmean"]); se0 <- unname(zero["se(rmean)"])
  d_se <- sqrt(se1^2 + se0^2)
  r <- log(rm1 / rm0); r_se <- sqrt(se1^2 / rm1^2 + se0^2 / rm0^2)
  list(name = name, group_column = group_col, reference = reference, tau = tau,
       levels = levels, rmean = unname(table[, "rmean"]), se = unname(table[, "se(rmean)"]),
       difference = c(rm1 - rm0, rm1 - rm0 - z * d_se, rm1 - rm0 + z * d_se, 2 * pnorm(-abs((rm1 - rm0) / d_se))),
       ratio = c(exp(r), exp(r - z * r_se), exp(r + z * r_se), 2 * pnorm(-abs(r / r_se))))
}
# Fixed time (Klein et al., Stat Med 2007): S1 - S0 with the linear CI from the
# Greenwood SEs of summary(survfit, times = t), and z = (g(S1) - g(S0)) / sqrt(v1 + v0)
# on the CI transform g with v the delta-method variance from e = se(log S) = se(S) / S:
#   plain: S, sd S e;  log: log S, e;  log-log: log(-log S), e / |log S|;
#   logit: log(S / (1 - S)), e / (1 - S);  arcsin: asin(sqrt(S)), e / 2 * sqrt(S / (1 - S)).
fixed_entry <- function(name, d, group_col, reference, t, conf_type) {
  g <- list(plain = function(s, e) c(s, s * e), log = function(s, e) c(log(s), e),
            "log-log" = function(s, e) c(log(-log(s)), e / abs(log(s))),
            logit = function(s, e) c(log(s / (1 - s)), e / (1 - s)),
            arcsin = function(s, e) c(asin(sqrt(s)), 0.5 * e * sqrt(s / (1 - s))))[[conf_type]]
  at <- function(rows) summary(survfit(Surv(time, status) ~ 1, data = rows, conf.type = conf_type), times = t)
  one <- at(d[d[[group_col]] != reference, ])
  zero <- at(d[d[[group_col]] == reference, ])
  # summary.survfit's std.err is the SE of S; std.err / S that of log S.
  se1 <- one$std.err; se0 <- zero$std.err
  diff <- one$surv - zero$surv
  z <- qnorm(0.975)
  g1 <- g(one$surv, se1 / one$surv); g0 <- g(zero$surv, se0 / zero$surv)
  statistic <- (g1[1] - g0[1]) / sqrt(g1[2]^2 + g0[2]^2)
  list(name = name, group_column = group_col, reference = reference, time = t, conf_type = conf_type,
       difference = diff, lower = diff - z * sqrt(se1^2 + se0^2), upper = diff + z * sqrt(se1^2 + se0^2),
       statistic = statistic, p = 2 * pnorm(-abs(statistic)))
}
rmst <- list(rmst_entry("gehan", gehan_df, "treat", "control", 20),
             rmst_entry("lung", lung_df, "sex", 1, 500))
fixed <- lapply(c("plain", "log", "log-log", "logit", "arcsin"),
                function(ct) fixed_entry("gehan", gehan_df, "treat", "control", 10, ct))

# ------------------------------------------------------------- Fine-Gray ---
# cmprsk::crr (one censoring group, no time functions) on survival::mgus2 (PCM,
# death competing; tests/reference/data/cr_mgus2_*.csv) and on the colon
# example's recurrence endpoint (death without recurrence competing, derived
# as colon_reference.R does), with indicators against the reference level.
crr_entry <- function(name, time, status, x) {
  fit <- crr(time, status, as.matrix(x), failcode = 1, cencode = 0)
  se <- sqrt(diag(fit$var))
  z <- qnorm(0.975)
  list(name = name, covariates = colnames(x), n = fit$n, events = sum(status == 1),
       coef = unname(fit$coef), se = unname(se), hazard_ratio = unname(exp(fit$coef)),
       lower = unname(exp(fit$coef - z * se)), upper = unname(exp(fit$coef + z * se)),
       p = unname(2 * pnorm(-abs(fit$coef / se))), loglik = c(fit$loglik.null, fit$loglik),
       converged = fit$converged)
}
indicators <- function(values, reference) {
  levels <- setdiff(unique(values), reference)
  levels <- levels[order(levels)]
  x <- sapply(levels, function(l) as.integer(values == l))
  matrix(x, ncol = length(levels), dimnames = list(NULL, levels))
}
mgus_sex <- read.csv(file.path(data_dir, "cr_mgus2_sex.csv"))
mgus_age <- read.csv(file.path(data_dir, "cr_mgus2_age.csv"))
colon_csv <- read.csv(file.path("examples", "colon", "data", "colon.csv"), stringsAsFactors = FALSE)
rec_first <- colon_csv$recurrence == "yes" &
  (colon_csv$death == "no" | colon_csv$recurrence_time_days <= colon_csv$death_time_days)
colon_status <- ifelse(rec_first, 1L, ifelse(colon_csv$death == "yes", 2L, 0L))
colon_time <- ifelse(colon_status == 1, colon_csv$recurrence_time_days,
                     ifelse(colon_status == 2, colon_csv$death_time_days,
                            pmin(colon_csv$recurrence_time_days, colon_csv$death_time_days)))
colon_arm <- cbind(lev = as.integer(colon_csv$arm == "lev"), lev_5fu = as.integer(colon_csv$arm == "lev_5fu"))
fine_gray <- list(
  crr_entry("mgus2-sex", mgus_sex$time, mgus_sex$status, cbind(M = as.integer(mgus_sex$sex == "M"))),
  crr_entry("mgus2-age", mgus_age$time, mgus_age$status,
            cbind("60to74" = as.integer(mgus_age$age_group == "60to74"),
                  "75plus" = as.integer(mgus_age$age_group == "75plus"))),
  # The competing event coded 2 as well as 3: any positive code other than failcode competes.
  crr_entry("mgus2-sex-code3", mgus_sex$time, ifelse(mgus_sex$status == 2, 3L, mgus_sex$status),
            cbind(M = as.integer(mgus_sex$sex == "M"))),
  crr_entry("colon-recurrence-by-arm", colon_time, colon_status, colon_arm))

# ------------------------------------------ landmark on the example cohort ---
# Overall survival as survival_reference.R derives it; response known at the
# landmark (study.yml: comparisons.mrd_negative_remission.landmark).

landmark <- NULL
cohort_path <- file.path("data", "example_cohort.csv")
if (file.exists(cohort_path)) {
  cohort <- read.csv(cohort_path, stringsAsFactors = FALSE, na.strings = "")
  cutoff <- as.Date(sub("^  cutoff_date: *", "", grep("^  cutoff_date:", readLines("study.yml"), value = TRUE)))
  start <- as.Date(cohort$ino_start_date)
  death <- as.Date(cohort$death_date)
  died <- cohort$vital_status == "dead" & !is.na(death) & death <= cutoff
  end <- as.Date(cohort$last_contact_date)
  end[died] <- death[died]
  end <- pmin(end, cutoff)
  os <- data.frame(id = seq_len(nrow(cohort)), time = as.numeric(end - start), status = as.integer(died),
                   responder = as.integer(cohort$response == "mrd_negative_remission"))
  L <- 60
  horizon <- 730.5
  # Patients at risk at day L (time >= L, as n.risk counts), time from L.
  lm <- subset(os, time >= L)
  lm$time <- lm$time - L
  lm$group <- factor(ifelse(lm$responder == 1, "yes", "no"), levels = c("yes", "no"))
  km <- lapply(c("yes", "no"), function(g) {
    fit <- survfit(Surv(time, status) ~ 1, data = lm[lm$group == g, ], conf.type = "plain")
    s <- summary(fit, times = horizon)
    list(level = g, n = sum(lm$group == g), surv = s$surv, se = s$std.err, lower = s$lower, upper = s$upper)
  })
  lm_cox <- coxph(Surv(time, status) ~ I(group == "yes"), data = lm)
  # Time-dependent covariate: response switches on at day L (no response date is recorded).
  td <- tmerge(os[, c("id", "responder")], os, id = id, death = event(time, status),
               response_td = tdc(ifelse(responder == 1, L, NA)))
  td_cox <- coxph(Surv(tstart, tstop, death) ~ response_td, data = td)
  adjusted <- coxph(Surv(time, status) ~ blina + sex + age,
                    data = transform(os, blina = as.integer(cohort$prior_blinatumomab == "yes"),
                                     sex = factor(cohort$sex, levels = c("female", "male")),
                                     age = cohort$age_years))
  landmark <- list(
    md5 = unname(tools::md5sum(cohort_path)), landmark_days = L, horizon_days = horizon,
    n = nrow(lm), excluded = nrow(os) - nrow(lm), excluded_events = sum(os$status[os$time < L]),
    km = km, logrank_chisq = survdiff(Surv(time, status) ~ group, data = lm)$chisq,
    logrank_p = survdiff(Surv(time, status) ~ group, data = lm)$pvalue,
    cox = model_entry("landmark", lm_cox, "yes"),
    time_dependent = model_entry("time_dependent", td_cox, "response_td"),
    time_dependent_rows = nrow(td),
    simon_makuch = sm_entry("example", survfit(Surv(tstart, tstop, death) ~ response_td, data = td)),
    # study.yml's models.overall_survival_adjusted: sex against the dictionary's first level (female).
    model = model_entry("adjusted", adjusted, c("prior_blinatumomab", "sex=male", "age_years")),
    model_zph = zph_entry("adjusted", adjusted),
    # From the first dose: RMST to 2 years by response, 2-year OS by prior blinatumomab.
    rmst = rmst_entry("example", transform(os, group = ifelse(responder == 1, "yes", "no")), "group", "no", horizon),
    fixed_time = fixed_entry("example", transform(os, group = ifelse(cohort$prior_blinatumomab == "yes", "yes", "no")),
                             "group", "no", horizon, "plain"))
}

reference <- list(
  generated_by = "tests/reference/methods_reference.R",
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  models = models, rmst = rmst, fixed_time = fixed, fine_gray = fine_gray, zph = zph, simon_makuch = simon_makuch, landmark = landmark)
write_json(reference, file.path(out_dir, "methods_reference.json"),
           auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = TRUE)
cat("wrote", file.path(out_dir, "methods_reference.json"), "\n")
