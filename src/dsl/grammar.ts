/** The .tfx grammar: a pure chevrotain grammar (no embedded actions), error recovery on, one shared instance. */
import { CstParser } from 'chevrotain';
import * as T from './lexer.js';

class TfxGrammar extends CstParser {
  constructor() {
    super(T.allTokens, { recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: 'full' });
    this.performSelfAnalysis();
  }

  file = this.RULE('file', () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Ident);
    this.MANY(() => this.SUBRULE(this.decl));
  });

  decl = this.RULE('decl', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.configDecl) },
      { ALT: () => this.SUBRULE(this.presetDecl) },
      { ALT: () => this.SUBRULE(this.dimDecl) },
      { ALT: () => this.SUBRULE(this.maskDecl) },
      { ALT: () => this.SUBRULE(this.blockDecl) },
      { ALT: () => this.SUBRULE(this.entryDecl) },
    ]);
  });

  binding = this.RULE('binding', () => {
    this.CONSUME(T.Ident);
    this.CONSUME(T.Assign);
    this.SUBRULE(this.expr);
    this.OPTION(() => this.CONSUME(T.Comma));
  });

  configDecl = this.RULE('configDecl', () => {
    this.CONSUME(T.Config);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.binding));
    this.CONSUME(T.RBrace);
  });

  presetDecl = this.RULE('presetDecl', () => {
    this.CONSUME(T.Preset);
    this.OR([{ ALT: () => this.CONSUME(T.Ident) }, { ALT: () => this.CONSUME(T.Str) }]);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.binding));
    this.CONSUME(T.RBrace);
  });

  dimDecl = this.RULE('dimDecl', () => {
    this.CONSUME(T.DimKw);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.Ident) });
  });

  maskDecl = this.RULE('maskDecl', () => {
    this.CONSUME(T.MaskKw);
    this.CONSUME(T.Ident);
    this.CONSUME(T.LParen);
    this.SUBRULE(this.nameList, { LABEL: 'indices' });
    this.OPTION(() => {
      this.CONSUME(T.Semi);
      this.SUBRULE2(this.nameList, { LABEL: 'tensors' });
    });
    this.CONSUME(T.RParen);
    this.CONSUME(T.Assign);
    this.SUBRULE(this.expr);
  });

  nameList = this.RULE('nameList', () => {
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.Ident) });
  });

  blockDecl = this.RULE('blockDecl', () => {
    this.CONSUME(T.BlockKw);
    this.CONSUME(T.Ident);
    this.CONSUME(T.LParen);
    this.OPTION(() => this.SUBRULE(this.nameList));
    this.CONSUME(T.RParen);
    this.SUBRULE(this.body);
  });

  entryDecl = this.RULE('entryDecl', () => {
    this.CONSUME(T.EntryKw);
    this.CONSUME(T.Ident);
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.typedParam) });
    this.CONSUME(T.RParen);
    this.SUBRULE(this.body);
  });

  typedParam = this.RULE('typedParam', () => {
    this.CONSUME(T.Ident);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.tensorType);
  });

  tensorType = this.RULE('tensorType', () => {
    this.CONSUME(T.DTypeTok);
    this.SUBRULE(this.shape);
  });

  shape = this.RULE('shape', () => {
    this.CONSUME(T.LBrack);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expr) });
    this.CONSUME(T.RBrack);
  });

  body = this.RULE('body', () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.stmt));
    this.CONSUME(T.RBrace);
  });

  stmt = this.RULE('stmt', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.letStmt) },
      { ALT: () => this.SUBRULE(this.paramStmt) },
      { ALT: () => this.SUBRULE(this.returnStmt) },
      { ALT: () => this.SUBRULE(this.outStmt) },
      { ALT: () => this.SUBRULE(this.stateStmt) },
      { ALT: () => this.SUBRULE(this.writeStmt) },
    ]);
  });

  letStmt = this.RULE('letStmt', () => {
    this.CONSUME(T.Let);
    this.SUBRULE(this.nameList);
    this.CONSUME(T.Assign);
    this.SUBRULE(this.expr);
  });

  paramStmt = this.RULE('paramStmt', () => {
    this.CONSUME(T.ParamKw);
    this.CONSUME(T.Ident);
    this.CONSUME(T.Colon);
    this.OPTION(() => this.CONSUME(T.DTypeTok));
    this.SUBRULE(this.shape);
    this.OPTION2(() => {
      this.CONSUME(T.Assign);
      this.SUBRULE(this.expr);
    });
  });

  stateStmt = this.RULE('stateStmt', () => {
    this.CONSUME(T.StateKw);
    this.CONSUME(T.Ident);
    this.CONSUME(T.Colon);
    this.OPTION(() => this.CONSUME(T.DTypeTok));
    this.SUBRULE(this.shape);
  });

  writeStmt = this.RULE('writeStmt', () => {
    this.CONSUME(T.WriteKw);
    this.CONSUME(T.Ident);
    this.CONSUME(T.Assign);
    this.SUBRULE(this.expr);
  });

  returnStmt = this.RULE('returnStmt', () => {
    this.CONSUME(T.Return);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expr) });
  });

  outStmt = this.RULE('outStmt', () => {
    this.CONSUME(T.Out);
    this.CONSUME(T.Ident);
    this.CONSUME(T.Assign);
    this.SUBRULE(this.expr);
  });

  // Precedence, loosest first: || && (== !=) (< <= > >=) (+ -) (* / % @) unary postfix.
  expr = this.RULE('expr', () => {
    this.OR([{ ALT: () => this.SUBRULE(this.forExpr) }, { ALT: () => this.SUBRULE(this.orExpr) }]);
  });

  forExpr = this.RULE('forExpr', () => {
    this.CONSUME(T.For);
    this.CONSUME(T.LParen);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.forVar) });
    this.CONSUME(T.RParen);
    this.CONSUME(T.Arrow);
    this.SUBRULE(this.expr);
  });

  forVar = this.RULE('forVar', () => {
    this.CONSUME(T.Ident);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.orExpr);
  });

  orExpr = this.RULE('orExpr', () => {
    this.SUBRULE(this.andExpr, { LABEL: 'operand' });
    this.MANY(() => { this.CONSUME(T.OrOr, { LABEL: 'op' }); this.SUBRULE2(this.andExpr, { LABEL: 'operand' }); });
  });
  andExpr = this.RULE('andExpr', () => {
    this.SUBRULE(this.eqExpr, { LABEL: 'operand' });
    this.MANY(() => { this.CONSUME(T.AndAnd, { LABEL: 'op' }); this.SUBRULE2(this.eqExpr, { LABEL: 'operand' }); });
  });
  eqExpr = this.RULE('eqExpr', () => {
    this.SUBRULE(this.relExpr, { LABEL: 'operand' });
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.EqEq, { LABEL: 'op' }) }, { ALT: () => this.CONSUME(T.NotEq, { LABEL: 'op' }) }]);
      this.SUBRULE2(this.relExpr, { LABEL: 'operand' });
    });
  });
  relExpr = this.RULE('relExpr', () => {
    this.SUBRULE(this.addExpr, { LABEL: 'operand' });
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.LtEq, { LABEL: 'op' }) }, { ALT: () => this.CONSUME(T.GtEq, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(T.Lt, { LABEL: 'op' }) }, { ALT: () => this.CONSUME(T.Gt, { LABEL: 'op' }) },
      ]);
      this.SUBRULE2(this.addExpr, { LABEL: 'operand' });
    });
  });
  addExpr = this.RULE('addExpr', () => {
    this.SUBRULE(this.mulExpr, { LABEL: 'operand' });
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Plus, { LABEL: 'op' }) }, { ALT: () => this.CONSUME(T.Minus, { LABEL: 'op' }) }]);
      this.SUBRULE2(this.mulExpr, { LABEL: 'operand' });
    });
  });
  mulExpr = this.RULE('mulExpr', () => {
    this.SUBRULE(this.unaryExpr, { LABEL: 'operand' });
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Star, { LABEL: 'op' }) }, { ALT: () => this.CONSUME(T.Slash, { LABEL: 'op' }) },
        { ALT: () => this.CONSUME(T.Percent, { LABEL: 'op' }) }, { ALT: () => this.CONSUME(T.At, { LABEL: 'op' }) },
      ]);
      this.SUBRULE2(this.unaryExpr, { LABEL: 'operand' });
    });
  });
  unaryExpr = this.RULE('unaryExpr', () => {
    this.OR([
      { ALT: () => { this.CONSUME(T.Minus, { LABEL: 'op' }); this.SUBRULE(this.unaryExpr); } },
      { ALT: () => { this.CONSUME(T.Bang, { LABEL: 'op' }); this.SUBRULE2(this.unaryExpr); } },
      { ALT: () => this.SUBRULE(this.primary) },
    ]);
  });

  primary = this.RULE('primary', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Float) },
      { ALT: () => this.CONSUME(T.Int) },
      { ALT: () => this.CONSUME(T.DTypeTok) },
      { ALT: () => this.SUBRULE(this.nameExpr) },
      { ALT: () => this.SUBRULE(this.listExpr) },
      { ALT: () => { this.CONSUME(T.LParen); this.SUBRULE(this.expr); this.CONSUME(T.RParen); } },
    ]);
  });

  // name | name(args) [as name] | name[indices]
  nameExpr = this.RULE('nameExpr', () => {
    this.CONSUME(T.Ident);
    this.OPTION(() => {
      this.OR([
        { ALT: () => {
          this.CONSUME(T.LParen);
          this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expr, { LABEL: 'arg' }) });
          this.CONSUME(T.RParen);
          this.OPTION2(() => { this.CONSUME(T.As); this.CONSUME2(T.Ident, { LABEL: 'alias' }); });
        } },
        { ALT: () => {
          this.CONSUME(T.LBrack);
          this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE2(this.expr, { LABEL: 'index' }) });
          this.CONSUME(T.RBrack);
        } },
      ]);
    });
  });

  listExpr = this.RULE('listExpr', () => {
    this.CONSUME(T.LBrack);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expr) });
    this.CONSUME(T.RBrack);
  });
}

export const grammar = new TfxGrammar();
