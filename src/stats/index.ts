/** The pure statistics core: no I/O, no clock. Everything the signals and the evaluator need. */
export type { MomentSums, RatioSums, ProportionCounts, MixSums, CategorySums } from './sums.js';
export { relativeDeviation, exceedsThreshold, type DeviationDirection } from './deviation.js';
export {
  welchTTest,
  ratioZTest,
  twoProportionZTest,
  chiSquareTest,
  gTest,
  raoScottChiSquareTest,
  poolSparseCategories,
  SPARSE_KEY,
  type TestResult,
  type CategoryCounts,
} from './tests.js';
export { jensenShannonDistance, unseenShare, shares, type Counts } from './distribution.js';
export { holmAdjust } from './correction.js';
export { median } from './median.js';
export {
  normalCdf,
  normalSurvival,
  normalTwoSidedPValue,
  studentTCdf,
  studentTTwoSidedPValue,
  chiSquareSurvival,
} from './probability.js';
export {
  erf,
  erfc,
  logGamma,
  logBeta,
  regularizedGammaP,
  regularizedGammaQ,
  regularizedIncompleteBeta,
} from './special.js';
export { slidingFalseAlertRate, slidingLookLevel } from './sequential.js';
export { poissonRateTest, spendZTest, type RateCount, type SpendSums } from './volume.js';
