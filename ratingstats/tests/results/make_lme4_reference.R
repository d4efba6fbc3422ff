# Reference fits with R's lme4 for the fixtures in this folder.
#
#   Rscript ratingstats/tests/results/make_lme4_reference.R
#
# For each <name>.csv writes <name>_lme4.json (fixed effects, variance components, theta,
# REML criterion, versions) and <name>_lme4_items.csv (per item: conditional mode and its
# conditional SD from ranef(condVar = TRUE), the estimate for an average rater, and the full
# prediction-error SD that also counts the uncertainty of the fixed effects, computed here from
# Henderson's mixed-model equations at lme4's estimates).  The Python tests only read these
# outputs; they never run R.
#
# The optimiser tolerances are tightened from lme4's defaults so that the reference sits on the
# REML optimum to ~1e-8 in theta; the model and the criterion are lme4's own.

suppressPackageStartupMessages({
  library(lme4)
  library(Matrix)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))

ctrl <- lmerControl(
  optimizer = "nloptwrap",
  optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, xtol_rel = 1e-12, maxeval = 1e5),
  check.conv.singular = "ignore"
)

fit_one <- function(name) {
  path <- file.path(here, paste0(name, ".csv"))
  d <- read.csv(path, colClasses = "character")
  d$score <- as.numeric(d$score)
  d$item <- factor(d$item)
  d$rater <- factor(d$rater)
  has_group <- "rater_group" %in% names(d)
  if (has_group) {
    d$group <- factor(d$rater_group)
    fit <- lmer(score ~ group + (1 | item) + (1 | rater), data = d, REML = TRUE, control = ctrl)
  } else {
    fit <- lmer(score ~ 1 + (1 | item) + (1 | rater), data = d, REML = TRUE, control = ctrl)
  }

  vc <- as.data.frame(VarCorr(fit))
  sd_item <- vc$sdcor[vc$grp == "item"]
  sd_rater <- vc$sdcor[vc$grp == "rater"]
  sigma <- sigma(fit)
  X <- model.matrix(fit)
  xbar <- colMeans(X)
  beta <- fixef(fit)
  mu <- sum(xbar * beta)

  re <- as.data.frame(ranef(fit, condVar = TRUE))
  ri <- re[re$grpvar == "item", ]
  ri <- ri[match(levels(d$item), as.character(ri$grp)), ]

  # Full prediction-error variance of mu + a_i (Henderson 1975), in lme4's theta scaling:
  # M = [Lambda'Z'Z Lambda + I, Lambda'Z'X; X'Z Lambda, X'X], Var = sigma^2 c' M^-1 c,
  # c = (theta_a e_i, 0 for raters, xbar).
  Za <- sparse.model.matrix(~ 0 + item, d)
  Zb <- sparse.model.matrix(~ 0 + rater, d)
  ta <- sd_item / sigma
  tb <- sd_rater / sigma
  ZL <- cbind(ta * Za, tb * Zb)
  q <- ncol(ZL)
  na <- ncol(Za)
  M <- rbind(
    cbind(crossprod(ZL) + Diagonal(q), crossprod(ZL, X)),
    cbind(crossprod(X, ZL), crossprod(X))
  )
  C <- matrix(0, nrow(M), na)
  C[cbind(seq_len(na), seq_len(na))] <- ta
  C[(q + 1):nrow(M), ] <- xbar
  S <- as.matrix(solve(M, C))
  pev_sd <- sigma * sqrt(colSums(C * S))

  items <- data.frame(
    item = levels(d$item),
    cond_mode = ri$condval,
    cond_sd = ri$condsd,
    estimate = mu + ri$condval,
    pev_sd = pev_sd,
    n_ratings = as.integer(table(d$item)[levels(d$item)])
  )
  write.csv(items, file.path(here, paste0(name, "_lme4_items.csv")), row.names = FALSE)

  summ <- list(
    dataset = name,
    formula = paste(deparse(formula(fit)), collapse = " "),
    n = nrow(d),
    fixef = as.list(beta),
    xbar = as.list(xbar),
    mu = mu,
    sd_item = sd_item,
    sd_rater = sd_rater,
    sd_residual = sigma,
    theta = unname(c(ta, tb)),
    reml_criterion = unname(REMLcrit(fit)),
    singular = isSingular(fit),
    lme4_version = as.character(packageVersion("lme4")),
    r_version = R.version.string
  )
  write_json(summ, file.path(here, paste0(name, "_lme4.json")), auto_unbox = TRUE,
             digits = NA, pretty = TRUE)
  cat(sprintf("%-12s n=%5d sd_item=%.6f sd_rater=%.6f sigma=%.6f REML=%.6f\n",
              name, nrow(d), sd_item, sd_rater, sigma, REMLcrit(fit)))
}

for (name in c("confounded", "unbalanced", "druglib")) fit_one(name)
