/** The conversion of a build plan into a graph of neutral op descriptions, with the image history. */
export { buildGraph, type BuildGraph, type GraphOptions, type NamedContextKind, type StageGraph } from './graph.js';
export { fillHistoryTimes } from './history.js';
