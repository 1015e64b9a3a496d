export {
  type AccuracyIntervals,
  AccuracyIntervalsSchema,
  type Agreement,
  AgreementSchema,
  type AnnotationReport,
  AnnotationReportSchema,
  type AnnotatorReport,
  AnnotatorSchema,
  type AnnotatorTables,
  AnnotatorTablesSchema,
  GroundTruthSampleSchema,
  type LayerIntervals,
  LayerIntervalsSchema,
  type ProportionReport,
  ProportionSchema,
} from './annotation-schema';
export { formatProportion, groundTruthLines } from './annotation-tables';
export {
  type AgreementOptions,
  agreedGroundTruth,
  annotatorAgreement,
  annotatorName,
  sameAnnotation,
} from './annotator-agreement';
export { type EvaluateOptions, evaluateResults } from './evaluate';
export {
  type Figure,
  type FigureSpec,
  figureSpecs,
  type RenderFiguresOptions,
  renderFigures,
} from './figures';
export { evaluateFinalLayer, type FinalLayerOptions, type TextEmbedder } from './final-layer';
export {
  type GroundTruth,
  type GroundTruthEntry,
  GroundTruthEntrySchema,
  GroundTruthJsonSchema,
  type GroundTruthOptions,
  parseGroundTruth,
} from './ground-truth';
export {
  ANNOTATION_COMMENT,
  describeAnnotation,
  formatGroundTruthCsv,
  type GroundTruthAnnotation,
  type GroundTruthRow,
  type GroundTruthSample,
  groundTruthFromRows,
  parseGroundTruthCsv,
  splitGroundTruthComments,
} from './ground-truth-csv';
export { escapeHtml, formatHtmlReport, type HtmlReportOptions } from './html-report';
export {
  createLabelMatcher,
  type LabelMatcher,
  type LabelMatcherOptions,
  parseSynonyms,
} from './label-matcher';
export { escapeMarkdown, formatMarkdownReport, type MarkdownReportOptions } from './markdown-report';
export {
  type Accuracy,
  AccuracySchema,
  EVAL_REPORT_FORMAT,
  EVAL_REPORT_VERSION,
  type EvalReport,
  EvalReportSchema,
  type FinalLayerMetrics,
  FinalLayerMetricsSchema,
  type Histogram,
  HistogramSchema,
  type Interpretability,
  InterpretabilitySchema,
  type LabelerLayerReport,
  LabelerLayerReportSchema,
  type LabelerReport,
  LabelerReportSchema,
  type LayerSummary,
  LayerSummarySchema,
  type Quantiles,
  QuantilesSchema,
  type ReportScoreScale,
  type ScoreByCorrectness,
  ScoreByCorrectnessSchema,
  ScoreScaleSchema,
} from './report-schema';
export {
  formatNumber,
  type ReportSection,
  type ReportTable,
  reportSections,
  scaleLines,
} from './report-tables';
export { rocAuc } from './roc-auc';
export {
  type CorrectnessTables,
  correctnessTables,
  DEFAULT_THRESHOLDS,
  histogram,
  type InterpretabilityThresholds,
  interpretabilityCounts,
  type JudgedNeuron,
  matchRank,
  maxScore,
  mean,
} from './tables';
export { type Proportion, wilsonInterval, Z_95 } from './wilson-interval';
